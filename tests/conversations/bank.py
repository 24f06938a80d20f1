"""The question bank (tests/conversations/*.yml): loading it, scoring a turn on meaning, and the
report.

A bank file holds one topic's conversations (or each conversation names its ``topic``):

    topic: payments
    conversations:
      - id: pay-rosa-next-payment
        phone: "+524431000001"          # or  farmer: PP-631423  (its phone, from the records)
        medium: sms                     # or whatsapp
        code: "8204"                    # the check code, sent when the assistant asks for it
        turns:
          - say: hola
            setup: true                 # not scored
          - say: "1"
            setup: true
          - say: cuando me pagan
            must: {invoice_folio: {farmer: PP-518204, folio: F-300102}}
            must_not: {other_farmer_folio: {farmer: PP-518204}}

A scored turn is a message with ``must`` and/or ``must_not`` (kinds in facts.py). When its answer
is the privacy notice, the check-code question or "¿Quién pregunta?", the runner answers as the
conversation says (``consent``, ``code``, ``who``) as unscored set-up, and the question is scored
on everything the assistant said until then.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.conversations import facts

BANK_DIR = Path(__file__).resolve().parent
MEDIA = ("sms", "whatsapp")
SMS_MAX_PARTS = 2
TOPICS = (
    "payments",
    "trainings",
    "quality",
    "calibres",
    "deliveries",
    "payment_history",
    "explanations",
    "howtos",
    "shared_phone",
    "odd_input",
)


@dataclass
class Turn:
    say: str
    setup: bool = False
    must: Any = None
    must_not: Any = None
    media: str | None = None  # audio, image...: a file with the message (WhatsApp)
    location: tuple[float, float, str] | None = None
    note: str = ""

    @property
    def scored(self) -> bool:
        return not self.setup and (self.must is not None or self.must_not is not None)


@dataclass
class Conversation:
    id: str
    topic: str
    medium: str
    turns: list[Turn]
    phone: str | None = None
    farmer: str | None = None  # a farmer's folio: the phone (and check code) come from the records
    code: str | None = None
    who: str | None = None
    consent: str = "accept"  # accept | decline: how the runner answers a privacy notice
    note: str = ""
    source: str = ""
    held_out: bool = False  # from a file marked held_out: scored apart, never tuned against
    # From a file that was a held-out set in an earlier round (retired_held_out: <round>): its
    # failures were read and fixed since, so it is development, but harder than the files the
    # assistant was built against, and gated apart so it neither hides nor sinks them.
    retired_held_out: bool = False


def load_bank(directory: Path = BANK_DIR) -> list[Conversation]:
    conversations: list[Conversation] = []
    for path in sorted(directory.glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        topic = document.get("topic")  # a conversation may name its own (fresh.yml)
        held_out = bool(document.get("held_out", False))
        retired = bool(document.get("retired_held_out", False))
        for raw in document["conversations"]:
            turns = [
                Turn(
                    say=str(t.get("say", "")),
                    setup=bool(t.get("setup", False)),
                    must=t.get("must"),
                    must_not=t.get("must_not"),
                    media=t.get("media"),
                    location=tuple(t["location"]) if t.get("location") else None,
                    note=t.get("note", ""),
                )
                for t in raw["turns"]
            ]
            conversations.append(
                Conversation(
                    id=raw["id"],
                    held_out=held_out,
                    retired_held_out=retired,
                    topic=raw.get("topic", topic),
                    medium=raw.get("medium", "sms"),
                    turns=turns,
                    phone=raw.get("phone"),
                    farmer=raw.get("farmer"),
                    code=str(raw["code"]) if raw.get("code") is not None else None,
                    who=str(raw["who"]) if raw.get("who") is not None else None,
                    consent=raw.get("consent", "accept"),
                    note=raw.get("note", ""),
                    source=path.name,
                )
            )
    return conversations


def fact_kinds(spec: Any) -> list[str]:
    """Every kind named in a must / must_not block, nested ones included."""
    if spec is None:
        return []
    if isinstance(spec, list):
        return [k for item in spec for k in fact_kinds(item)]
    found = []
    for name, params in spec.items():
        found.append(name)
        if name in ("any_of", "all_of"):
            found += fact_kinds(params)
    return found


# --- what the assistant asks before it answers ------------------------------------------------

GATES = (
    ("privacy", [r"aviso de privacidad"]),
    ("code", [r"ultimos 4 numeros", r"escriba su nip", r"no coincide\. intente otra vez"]),
    ("who", [r"quien pregunta"]),
)


def gate_of(answer: str) -> str | None:
    plain = facts.norm(answer)
    for name, patterns in GATES:
        if any(re.search(p, plain) for p in patterns):
            return name
    return None


# --- scoring ------------------------------------------------------------------------------------


@dataclass
class Exchange:
    """One message the farmer sent and what came back."""

    said: str
    replies: list[dict]
    auto: str | None = None  # set-up the runner sent: privacy, code, who
    setup: bool = False
    seconds: float = 0.0

    @property
    def answer(self) -> str:
        return "\n".join(str(m.get("body") or "") for m in self.replies)

    @property
    def sms_parts(self) -> int:
        return sum(int(m.get("num_segments") or 0) for m in self.replies)


@dataclass
class TurnResult:
    conversation: Conversation
    index: int
    turn: Turn
    exchanges: list[Exchange]
    scored: bool
    passed: bool = True
    reasons: list[str] = field(default_factory=list)  # why it failed
    evidence: list[str] = field(default_factory=list)  # what was found
    categories: list[str] = field(default_factory=list)  # failure reasons, for the tally
    facts_passed: bool = True  # every fact right, whatever the hard rules said

    @property
    def answer(self) -> str:
        return "\n".join(e.answer for e in self.exchanges if e.answer)


def answer_class(answer: str) -> str:
    """What kind of answer a failed turn got, for the failure tally."""
    plain = facts.norm(answer)
    if not plain:
        return "no answer"
    for label, patterns in (
        ("error apology", facts.ERROR_TEXTS),
        ("did not understand", facts.NOT_UNDERSTOOD[:3]),
        ("handed to a person", [r"paso su mensaje", r"pase su (?:mensaje|solicitud)"]),
        ("out of scope", [r"no lo se responder"]),
        ("asked for the check code", [r"ultimos 4 numeros", r"escriba su nip"]),
        ("privacy notice", [r"aviso de privacidad"]),
        ("asked who is asking", [r"quien pregunta"]),
        ("wrong number option", [r"esa opcion no esta", r"no se a que se refiere ese numero"]),
        ("payment status", [r"factura f-\d+"]),
        ("no invoices", [r"no tiene facturas"]),
        ("number not registered", [r"no esta registrado"]),
        ("training list", [r"proximas capacitaciones"]),
        ("no trainings", [r"no hay capacitaciones"]),
        ("no enrolments", [r"no tiene inscripciones"]),
        ("asked for the place", [r"en que municipio o estado"]),
        ("asked which product", [r"de que producto quiere saber"]),
        ("no quality requirement on record", [r"no tengo en el registro", r"todavia no tengo requisitos"]),
        ("quality table", [r"tabla de referencia del programa:"]),
        ("calibre explained", [r"el calibre es el numero"]),
        ("calibre table", [r"calibre \d+"]),
        ("file or voice note", [r"no me llego ningun archivo", r"nota de voz", r"su foto"]),
        ("menu", [r"1\. mis pagos"]),
        ("generic ok", [r"^de acuerdo"]),
    ):
        if any(re.search(p, plain) for p in patterns):
            return label
    return "other answer"


def hard_problems(exchange: Exchange, medium: str) -> list[str]:
    """What no exchange may show: no answer, an error apology, a stack trace or a FAQ placeholder,
    too many SMS parts (the parts of all the replies to one message, counted together)."""
    problems = []
    if not exchange.replies:
        problems.append("no answer")
    problems += facts.global_problems(exchange.answer)
    if medium == "sms" and exchange.sms_parts > SMS_MAX_PARTS:
        problems.append(f"SMS answer in {exchange.sms_parts} parts (max {SMS_MAX_PARTS})")
    return problems


def score_turn(result: TurnResult, ctx: facts.Context, carried: list[str]) -> TurnResult:
    """Checks the turn's facts against everything answered in the turn, and the hard rules on
    each exchange (and on the set-up turns before it, ``carried``)."""
    turn, answer = result.turn, result.answer
    kind_of = answer_class(result.exchanges[-1].answer if result.exchanges else "")
    for problem in carried:
        result.reasons.append(problem)
        result.categories.append(f"hard rule, set-up answer: {problem.split(': ', 1)[-1].split(' (')[0]}")
    for exchange in result.exchanges:
        for problem in hard_problems(exchange, result.conversation.medium):
            result.reasons.append(f"{exchange.said[:30]!r}: {problem}")
            result.categories.append(f"hard rule: {problem.split(' (')[0]}")
    fact_failures = 0
    for polarity, spec in (("must", turn.must), ("must_not", turn.must_not)):
        if spec is None:
            continue
        items = spec if isinstance(spec, list) else [{k: v} for k, v in spec.items()]
        for item in items:
            for name, params in item.items():
                try:
                    fact = facts.resolve(name, params, ctx)
                except facts.Unresolvable as error:
                    fact_failures += 1
                    result.reasons.append(f"{name}: reference not in the records ({error})")
                    result.categories.append(f"bank: {name} reference not in the records")
                    continue
                evidence = fact.found(answer)
                if name in ("text", "regex"):
                    what = f"{name} {fact.label[:40]}"
                elif name in ("any_of", "all_of"):
                    what = f"{name}({', '.join(dict.fromkeys(fact_kinds(params)))})"
                else:
                    what = name
                if polarity == "must" and evidence is None:
                    fact_failures += 1
                    result.reasons.append(f"missing {name}: {fact.label}")
                    result.categories.append(f"missing {what} (answer: {kind_of})")
                elif polarity == "must_not" and evidence is not None:
                    fact_failures += 1
                    result.reasons.append(f"must not say {name}: {fact.label} (found {evidence!r})")
                    result.categories.append(f"says what it must not: {what} (answer: {kind_of})")
                elif evidence is not None:
                    result.evidence.append(f"{name}: {evidence}")
                else:
                    result.evidence.append(f"not {name}")
    result.passed = not result.reasons
    result.facts_passed = fact_failures == 0 and not any(c.startswith("bank:") for c in result.categories)
    return result


# --- the report ---------------------------------------------------------------------------------


@dataclass
class Summary:
    scored: int
    passed: int
    facts_passed: int  # the same turns judged on their facts alone, without the hard rules
    by_topic: dict[str, tuple[int, int]]  # topic: (passed, scored)
    facts_by_topic: dict[str, int]  # topic: turns right on their facts alone
    reasons: list[tuple[str, int]]
    conversations: int
    turns: int
    exchanges: int

    @property
    def score(self) -> float:
        return self.passed / self.scored if self.scored else 0.0


def summarise(results: list[TurnResult], conversations: int) -> Summary:
    scored = [r for r in results if r.scored]
    by_topic: dict[str, tuple[int, int]] = {}
    facts_by_topic: dict[str, int] = {}
    for topic in TOPICS:
        mine = [r for r in scored if r.conversation.topic == topic]
        by_topic[topic] = (sum(r.passed for r in mine), len(mine))
        facts_by_topic[topic] = sum(r.facts_passed for r in mine)
    tally = Counter(c for r in scored if not r.passed for c in dict.fromkeys(r.categories))
    return Summary(
        scored=len(scored),
        passed=sum(r.passed for r in scored),
        facts_passed=sum(r.facts_passed for r in scored),
        by_topic=by_topic,
        facts_by_topic=facts_by_topic,
        reasons=tally.most_common(),
        conversations=conversations,
        turns=len(results),
        exchanges=sum(len(r.exchanges) for r in results),
    )


def _quote(text: str) -> str:
    lines = text.splitlines() or ["(no answer)"]
    return "\n".join(f"    > {line}" if line.strip() else "    >" for line in lines)


def write_report(path: Path, results: list[TurnResult], summary: Summary, header: dict[str, str]) -> None:
    out = ["# Conversation bank: report", ""]
    out += [f"- {k}: {v}" for k, v in header.items()]
    out += [
        f"- conversations: {summary.conversations}, turns: {summary.turns} "
        f"(messages sent, with automatic set-up: {summary.exchanges})",
        f"- **score: {summary.passed}/{summary.scored} scored turns = {summary.score:.1%}**",
        f"- on their facts alone (without the hard rules: SMS parts, error texts, no answer): "
        f"{summary.facts_passed}/{summary.scored} = {summary.facts_passed / max(summary.scored, 1):.1%}",
        "",
        "## By topic",
        "",
        "| topic | passed | scored | score | right on facts alone |",
        "|---|---|---|---|---|",
    ]
    for topic, (passed, scored) in summary.by_topic.items():
        facts_alone = summary.facts_by_topic[topic]
        out.append(
            f"| {topic} | {passed} | {scored} | {passed / scored:.0%} | {facts_alone} |"
            if scored
            else f"| {topic} | 0 | 0 | - | - |"
        )
    out += ["", "## Most common failure reasons", "", "| reason | turns |", "|---|---|"]
    out += [f"| {reason} | {count} |" for reason, count in summary.reasons[:20]]
    out += ["", "## Every turn", ""]
    current = None
    for r in results:
        conv = r.conversation
        if conv.id != current:
            current = conv.id
            who = conv.phone or conv.farmer
            out += ["", f"### {conv.id} ({conv.topic}, {conv.medium}, {who})", ""]
            if conv.note:
                out += [f"_{conv.note}_", ""]
        verdict = "set-up" if not r.scored else ("PASS" if r.passed else "FAIL")
        out.append(
            f"**{r.index + 1}. `{r.turn.say or '(empty)'}`**"
            + (f" [{r.turn.media}]" if r.turn.media else "")
            + f" - {verdict}"
        )
        out.append("")
        for e in r.exchanges:
            if e.auto:
                out.append(f"    (set-up, {e.auto}) `{e.said}`")
            out.append(_quote(e.answer))
            if conv.medium == "sms" and e.replies:
                out.append(f"    ({e.sms_parts} SMS part(s), {e.seconds:.1f} s)")
        if r.scored:
            why = r.reasons if not r.passed else r.evidence
            out.append("")
            out.append("    why: " + ("; ".join(why) if why else "-"))
        out.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
