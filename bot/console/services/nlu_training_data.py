"""Corrections as Rasa NLU training data: the entities staff write ('entity: fragment' lines),
Rasa's inline entity markup, and the training file (format 3.1)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from bot.console.schema import ConsoleCorrection


class CorrectionError(ValueError):
    """A correction that cannot be saved; the message is for staff, in Spanish."""


def parse_entities(text: str, spec: str, allowed: Iterable[str]) -> list[dict]:
    """Lines 'entity: fragment' or 'entity: fragment = value'; the fragment must be in the text."""
    allowed = set(allowed)
    entities: list[dict[str, Any]] = []
    lowered = text.lower()
    for number, line in enumerate((spec or "").splitlines(), start=1):
        if not line.strip():
            continue
        if ":" not in line:
            raise CorrectionError(f"Línea {number}: escriba «entidad: fragmento del texto».")
        name, rest = (part.strip() for part in line.split(":", 1))
        fragment, _, value = (part.strip() for part in rest.partition("="))
        if name not in allowed:
            raise CorrectionError(f"Línea {number}: «{name}» no es una entidad del asistente.")
        start = lowered.find(fragment.lower()) if fragment else -1
        if start < 0:
            raise CorrectionError(f"Línea {number}: «{fragment}» no aparece en el mensaje.")
        end = start + len(fragment)
        entities.append({"entity": name, "start": start, "end": end, "value": value or text[start:end]})
    entities.sort(key=lambda e: e["start"])
    for a, b in zip(entities, entities[1:], strict=False):
        if b["start"] < a["end"]:
            raise CorrectionError("Dos entidades se enciman en el texto.")
    return entities


def entities_spec(entities: list[dict], text: str) -> str:
    """The lines staff would write for these entities (the inverse of parse_entities)."""
    lines = []
    for e in entities or []:
        start, end = e.get("start"), e.get("end")
        fragment = text[start:end] if start is not None and end is not None else str(e.get("value", ""))
        value = str(e.get("value", fragment))
        lines.append(f"{e['entity']}: {fragment}" + (f" = {value}" if value != fragment else ""))
    return "\n".join(lines)


def _plain_piece(text: str) -> str:
    # Square brackets outside an annotation would read as entity markup to Rasa.
    return text.replace("[", "(").replace("]", ")")


def annotate(text: str, entities: list[dict]) -> str:
    """Rasa's inline entity markup: '[aguacate](product)', or the JSON form for a synonym."""
    pieces, cursor = [], 0
    for e in sorted(entities or [], key=lambda e: e["start"]):
        pieces.append(_plain_piece(text[cursor : e["start"]]))
        fragment = _plain_piece(text[e["start"] : e["end"]])
        if str(e.get("value", fragment)) == text[e["start"] : e["end"]]:
            pieces.append(f"[{fragment}]({e['entity']})")
        else:
            pieces.append(
                f"[{fragment}]"
                + json.dumps({"entity": e["entity"], "value": str(e["value"])}, ensure_ascii=False)
            )
        cursor = e["end"]
    pieces.append(_plain_piece(text[cursor:]))
    return " ".join("".join(pieces).split())


def nlu_yaml(corrections: Iterable[ConsoleCorrection]) -> str:
    """Corrections as a Rasa NLU training file (format 3.1), one block per intent, in the
    order given (grouped by intent), each example once."""
    by_intent: dict[str, list[str]] = defaultdict(list)
    for c in corrections:
        example = annotate(c.text, json.loads(c.entities_json) if c.entities_json else [])
        if example and example not in by_intent[c.intent]:
            by_intent[c.intent].append(example)
    lines = ['version: "3.1"', "nlu:"]
    for intent, examples in by_intent.items():
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines.extend(f"    - {example}" for example in examples)
    if not by_intent:
        lines[-1] = "nlu: []"
    return "\n".join(lines) + "\n"
