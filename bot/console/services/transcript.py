"""One phone's conversation: every message with what the assistant understood and how each reply
was delivered, the officers' replies, the program's notices (issue 14), who the number belongs to,
its review, its requests for a person, and whether WhatsApp's 24-hour window is open.

A notice enters the conversation as a message of its own (a Rasa user event with intent "notice",
no text, its id NT..., which the console copies as kind "notice"): it is shown as the program's,
never as something the farmer wrote, and the assistant's reply to it (what went out, proactive) is
marked as the notice. A notice that was not
sent, still waits, or was not said yet gets a line of its own with why."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from bot.console.auth import StaffUser
from bot.console.config import ConsoleSettings
from bot.console.domain import assistant_names
from bot.console.queries import audit, corrections, messages, replies
from bot.console.queries.reviews import review_of
from bot.console.schema import ConsoleCorrection, ConsoleMessage, ConsoleReply, ConsoleReview
from bot.console.services.nlu_training_data import entities_spec
from bot.console.services.notices import NoticeMark, PhoneNotices, phone_notices
from bot.console.services.replies import whatsapp_window_open
from bot.console.services.review import split_tags
from bot.messaging.outbound_reads import statuses_by_reply, statuses_by_sid
from bot.records.farmers import farmers_by_phone
from bot.records.requests import requests_for_phone
from bot.records.schema import Farmer, HumanRequest
from bot.timeutil import as_utc


@dataclass
class TranscriptItem:
    kind: str  # user / bot / action / officer / notice (the program's: a notice, not the farmer)
    ts: datetime
    text: str = ""
    medium: str | None = None
    event_id: int | None = None
    intent: str | None = None
    confidence: float | None = None
    entities: list[dict] = field(default_factory=list)
    media: list[dict] = field(default_factory=list)
    location: dict | None = None
    action_name: str | None = None
    delivery: list[str] = field(default_factory=list)
    correction: ConsoleCorrection | None = None
    author: str | None = None
    reply_status: str | None = None
    message_id: str | None = None
    notice: NoticeMark | None = None  # a notice's line, or the assistant's message that said it


def transcript_items(session: Session, sender_id: str) -> list[TranscriptItem]:
    """The conversation's messages, the officers' replies and the phone's notices, in time order; a
    bounded number of queries however long the conversation."""
    rows = messages.conversation(session, sender_id)
    corrected = corrections.corrections_in(session, sender_id)
    sent = replies.replies_to(session, sender_id)
    by_reply = statuses_by_reply(session, {r.in_reply_to for r in rows if r.kind == "bot"})
    by_sid = statuses_by_sid(session, [sid for r in sent for sid in _sids(r)])
    items = [_message_item(row, corrected, by_reply) for row in rows]
    items = _with_notices(rows, items, phone_notices(session, sender_id))
    items += [_reply_item(reply, by_sid) for reply in sent]
    items.sort(key=lambda i: (i.ts, i.event_id or 0))
    return items


def _sids(reply: ConsoleReply) -> list[str]:
    return (reply.twilio_sids or "").split(",")


def _message_item(
    row: ConsoleMessage, corrected: dict[int, ConsoleCorrection], by_reply: dict[str, list[str]]
) -> TranscriptItem:
    item = TranscriptItem(
        kind=row.kind,
        ts=as_utc(row.ts),
        text=row.text or "",
        medium=row.medium,
        event_id=row.event_id,
        action_name=row.action_name,
        message_id=row.message_id,
    )
    if row.kind == "user":
        item.intent, item.confidence = row.intent, row.confidence
        item.entities = json.loads(row.entities_json) if row.entities_json else []
        item.media = json.loads(row.media_json) if row.media_json else []
        item.location = json.loads(row.location_json) if row.location_json else None
        item.correction = corrected.get(row.event_id)
    elif row.kind == "bot":
        item.delivery = list(dict.fromkeys(by_reply.get(row.in_reply_to or "", [])))
    return item


def _with_notices(
    rows: list[ConsoleMessage], items: list[TranscriptItem], found: PhoneNotices
) -> list[TranscriptItem]:
    """The items with the notices marked: a notice's own event as the program's line, the
    assistant's message that said it marked with the notice; a line for each notice not in the
    conversation."""
    said: set[int] = set()
    for row, item in zip(rows, items, strict=True):
        if row.kind == "notice":
            item.notice = found.by_sid.get(row.message_id or "")
        elif row.kind == "bot" and row.in_reply_to in found.by_sid:
            item.notice = found.by_sid[row.in_reply_to]
        if item.notice is not None:
            said.add(item.notice.notice.id)
    own = [
        TranscriptItem(kind="notice", ts=found.moment(mark), notice=mark)
        for mark in found.marks
        if mark.notice.id not in said
    ]
    return items + own


def _reply_item(reply: ConsoleReply, by_sid: dict[str, str]) -> TranscriptItem:
    return TranscriptItem(
        kind="officer",
        ts=as_utc(reply.created_at),
        text=reply.body,
        medium=reply.medium,
        author=reply.username,
        reply_status=reply.status,
        delivery=[by_sid[sid] for sid in _sids(reply) if sid in by_sid],
    )


@dataclass
class TranscriptPage:
    sender_id: str
    items: list[TranscriptItem]
    farmers: list[Farmer]
    review: ConsoleReview | None
    tags: list[str]
    medium: str  # the medium the farmer last wrote on (or prefers)
    window_open: bool
    requests: list[HumanRequest]
    open_request: HumanRequest | None
    intents: tuple[str, ...]  # the intents a message may be corrected to
    # for each farmer message: the intent and entity lines its correction form starts with
    correction_defaults: dict[int, tuple[str | None, str]]
    template_available: bool
    low_confidence: float


def transcript_page(
    session: Session, actor: StaffUser, sender_id: str, settings: ConsoleSettings
) -> TranscriptPage | None:
    """The page of a phone's conversation (None when the phone neither wrote nor is a
    farmer's); the view is audited."""
    items = transcript_items(session, sender_id)
    farmers = farmers_by_phone(session, [sender_id]).get(sender_id, [])
    if not items and not farmers:
        return None
    review = review_of(session, sender_id)
    medium = messages.last_medium(session, sender_id) or (farmers[0].preferred_medium if farmers else "sms")
    requests = requests_for_phone(session, sender_id)
    page = TranscriptPage(
        sender_id=sender_id,
        items=items,
        farmers=farmers,
        review=review,
        tags=split_tags(review.tags) if review else [],
        medium=medium,
        window_open=whatsapp_window_open(session, sender_id),
        requests=requests,
        open_request=next((r for r in requests if r.status != "closed"), None),
        intents=assistant_names().intents,
        correction_defaults=_correction_defaults(items),
        template_available=bool(settings.whatsapp_template_sid),
        low_confidence=settings.low_confidence,
    )
    audit.record(
        session,
        actor,
        "view_transcript",
        phone=sender_id,
        farmer_id=farmers[0].id if len(farmers) == 1 else None,
        detail=",".join(f.folio for f in farmers) or None,
    )
    return page


def _correction_defaults(items: list[TranscriptItem]) -> dict[int, tuple[str | None, str]]:
    defaults = {}
    for item in items:
        if item.kind != "user" or item.event_id is None:
            continue
        chosen = item.correction
        entities = json.loads(chosen.entities_json) if chosen and chosen.entities_json else item.entities
        defaults[item.event_id] = (
            chosen.intent if chosen else item.intent,
            entities_spec(entities, item.text),
        )
    return defaults
