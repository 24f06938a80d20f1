"""Every text the assistant can send, shaped for SMS: GSM-7 only and at most two parts (a
longer answer is a short first reply and an offer of more).

Covers the domain's responses, every reply template of the custom actions
(tests/replies/samples.py: each rendered with sample values) and the channel's own texts.
Run with -s to see the table of parts per reply.
"""

from __future__ import annotations

import re
from string import Formatter

import yaml

from bot.config import PROJECT_ROOT
from bot.messaging.formatting import is_gsm7, pack_sms, shape_sms_text, sms_parts
from bot.replies.catalog import TEMPLATES
from tests.replies.samples import SAMPLES, all_reply_texts

SAMPLE_SLOT = "Rosa María"


def domain_texts() -> dict[str, str]:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8")) or {}
    found = {}
    for name, variants in (domain.get("responses") or {}).items():
        for index, variant in enumerate(variants or []):
            text = variant.get("text")
            if not text:
                continue
            buttons = variant.get("buttons") or []
            if buttons:
                text += "\n" + "\n".join(f"{i}. {b.get('title')}" for i, b in enumerate(buttons, 1))
            found[f"domain:{name}[{index}]"] = re.sub(r"\{[^}]+\}", SAMPLE_SLOT, text)
    return found


def action_texts() -> dict[str, str]:
    return {f"action:{key}": value for key, value in all_reply_texts().items()}


def all_texts() -> dict[str, str]:
    found = {}
    found.update(domain_texts())
    found.update(action_texts())
    return found


def test_every_reply_is_gsm7_and_at_most_two_sms_parts(capsys):
    replies = all_texts()
    problems = []
    rows = []
    for key, text in sorted(replies.items()):
        shaped = shape_sms_text(text)
        parts = sms_parts(shaped)
        bodies = pack_sms([text])
        rows.append(f"{parts.parts}  {parts.units:4d}  {key}")
        if not is_gsm7(shaped):
            bad = sorted({ch for ch in shaped if not is_gsm7(ch)})
            problems.append(f"{key}: not GSM-7 after shaping: {bad}")
        if parts.parts > 2 or len(bodies) != 1:
            problems.append(f"{key}: {parts.parts} SMS parts ({parts.units} septets)")
    with capsys.disabled():
        print("\nSMS parts per reply (parts, septets, reply):")
        print("\n".join(rows))
    assert not problems, "\n".join(problems)


def test_samples_fill_every_field_of_the_catalog_and_nothing_else():
    fields = {
        field for template in TEMPLATES.values() for _, field, _, _ in Formatter().parse(template) if field
    }
    assert fields == set(SAMPLES)
