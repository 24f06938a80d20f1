"""Reviewing conversations and correcting what the assistant understood: a review's tags and note,
an intent and entities corrected for one message, and the corrections exported as NLU training
data. The console never changes what the assistant stored."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.console.auth import StaffUser
from bot.console.domain import assistant_names
from bot.console.queries import corrections, messages, reviews
from bot.console.schema import ConsoleCorrection
from bot.console.services.nlu_training_data import CorrectionError, nlu_yaml, parse_entities
from bot.timeutil import utcnow


def split_tags(text: str | None) -> list[str]:
    return [t for t in (text or "").split(",") if t]


def clean_tags(text: str) -> str:
    """Lower case, single spaces, no repeats, at most 20 tags of 40 characters."""
    tags = []
    for raw in re.split(r"[,;]", text or ""):
        tag = " ".join(raw.strip().lower().split())[:40]
        if tag and tag not in tags:
            tags.append(tag)
    return ",".join(tags[:20])


def save_review(
    session: Session, actor: StaffUser, sender_id: str, *, reviewed: bool, tags: str, note: str
) -> None:
    """Marks a conversation reviewed (up to its newest message) or not, with tags and a note."""
    review = reviews.review_to_edit(session, sender_id)
    review.tags = clean_tags(tags or "")
    review.note = (note or "").strip() or None
    review.reviewed = bool(reviewed)
    if review.reviewed:
        review.reviewed_up_to = messages.newest_message_at(session, sender_id) or utcnow()
        review.reviewed_by, review.reviewed_at = actor.username, utcnow()
    else:
        review.reviewed_up_to = None


def save_correction(
    session: Session, *, event_id: int, intent: str, entities_text: str, username: str
) -> ConsoleCorrection:
    """Corrects the intent and entities of one farmer message; raises CorrectionError (in
    Spanish, for staff) before changing anything."""
    message = messages.user_message(session, event_id)
    if message is None:
        raise CorrectionError("Ese mensaje no existe.")
    names = assistant_names()
    if intent not in names.intents:
        raise CorrectionError(f"«{intent}» no es una intención del asistente.")
    entities = parse_entities(message.text or "", entities_text, names.entities)
    correction = corrections.correction_of(session, event_id)
    if correction is None:
        correction = ConsoleCorrection(
            event_id=event_id,
            sender_id=message.sender_id,
            text=message.text or "",
            original_intent=message.intent,
        )
        session.add(correction)
    correction.intent = intent
    correction.entities_json = json.dumps(entities, ensure_ascii=False)
    correction.corrected_by = username
    correction.corrected_at = utcnow()
    session.flush()
    return correction


def corrections_yaml(session: Session, since: datetime | None = None) -> str:
    """Every correction (or those since a moment) as a Rasa NLU training file."""
    return nlu_yaml(corrections.corrections_by_intent(session, since))


@dataclass
class CorrectionsPage:
    rows: list[ConsoleCorrection]
    preview: str  # the file as it would be downloaded


def corrections_page(session: Session) -> CorrectionsPage:
    return CorrectionsPage(corrections.latest_corrections(session), corrections_yaml(session))


def corrections_download(session: Session) -> tuple[str, str]:
    """(file name, contents) of the corrections file, dated today."""
    return f"nlu_correcciones_{utcnow().strftime('%Y%m%d')}.yml", corrections_yaml(session)
