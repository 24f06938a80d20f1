"""Queries behind the console's pages. Plain SQLAlchemy that runs the same on SQLite and
PostgreSQL; Rasa's events are read through the console_messages copy (see tracker.py)."""
from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Iterable, Optional
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import and_, func, inspect, not_, or_, select
from sqlalchemy.orm import Session, aliased

from bot.config import PROJECT_ROOT
from bot.console.schema import (
    ConsoleCorrection,
    ConsoleMessage,
    ConsoleReply,
    ConsoleReview,
)
from bot.phones import try_normalize_phone
from bot.records.schema import Farmer, FarmerPhone, HumanRequest
from bot.text import plain
from bot.timeutil import as_utc

M = ConsoleMessage
FALLBACK_ACTION = "action_clarify"
OUT_OF_SCOPE = "out_of_scope"
HUMAN_INTENT = "request_human"
FAILED_DELIVERY = ("failed", "undelivered")

_AMOUNT = re.compile(
    r"\$\s?\d[\d,]*(?:\.\d+)?|\b\d[\d,]*(?:\.\d+)?\s*(?:pesos|mxn)\b", re.IGNORECASE
)


def mask_amounts(text: str) -> str:
    """For viewers: '$37,765.00' -> '$ •••••' wherever it appears in a message."""
    return _AMOUNT.sub("$ •••••", text or "")


@lru_cache(maxsize=1)
def domain_names() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(intents, entities) of the assistant's domain, for the correction form."""
    data = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8")) or {}

    def names(items: Iterable[Any]) -> tuple[str, ...]:
        out = []
        for item in items or []:
            out.append(next(iter(item)) if isinstance(item, dict) else str(item))
        return tuple(out)

    return names(data.get("intents")), names(data.get("entities"))


def has_table(session: Session, name: str) -> bool:
    return name in inspect(session.get_bind()).get_table_names()


# --- time ---------------------------------------------------------------------------------------

def day_bounds(day_from: Optional[date], day_to: Optional[date], zone: str) -> tuple[Optional[datetime], Optional[datetime]]:
    """Local calendar days [from, to] as UTC instants [start, end)."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day_from, time.min, tz).astimezone(ZoneInfo("UTC")) if day_from else None
    end = (datetime.combine(day_to + timedelta(days=1), time.min, tz).astimezone(ZoneInfo("UTC"))
           if day_to else None)
    return start, end


def local(moment: Optional[datetime], zone: str) -> Optional[datetime]:
    return as_utc(moment).astimezone(ZoneInfo(zone)) if moment else None


# --- farmers by phone ---------------------------------------------------------------------------

def farmers_by_phone(session: Session, phones: Iterable[str]) -> dict[str, list[Farmer]]:
    phones = list(set(phones))
    found: dict[str, list[Farmer]] = defaultdict(list)
    if not phones:
        return found
    rows = session.execute(
        select(FarmerPhone.phone, Farmer).join(Farmer, Farmer.id == FarmerPhone.farmer_id)
        .where(FarmerPhone.phone.in_(phones)).order_by(Farmer.name)
    ).all()
    for phone, farmer in rows:
        found[phone].append(farmer)
    return found


def phones_matching(session: Session, query: str) -> set[str]:
    """Phones of farmers whose name (accents and case ignored) or folio matches."""
    needle = plain(query)
    if not needle:
        return set()
    ids = [
        fid for fid, name, folio in session.execute(select(Farmer.id, Farmer.name, Farmer.folio))
        if needle in plain(name) or needle in plain(folio)
    ]
    if not ids:
        return set()
    phones: set[str] = set()
    for chunk in range(0, len(ids), 500):
        phones.update(session.execute(
            select(FarmerPhone.phone).where(FarmerPhone.farmer_id.in_(ids[chunk:chunk + 500]))
        ).scalars())
    return phones


# --- conversation list --------------------------------------------------------------------------

@dataclass
class ConversationFilters:
    q: str = ""
    medium: str = ""
    date_from: Optional[date] = None
    date_to: Optional[date] = None
    intent: str = ""
    low_confidence: bool = False
    fallback: bool = False
    human: bool = False
    unreviewed: bool = False
    page: int = 1


@dataclass
class ConversationRow:
    sender_id: str
    last_ts: datetime
    messages: int
    farmers: list[Farmer]
    last_text: str
    medium: Optional[str]
    low_confidence: int
    fallbacks: int
    asked_human: bool
    reviewed: bool
    tags: list[str]


@dataclass
class Page:
    rows: list[Any]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))

    @property
    def first(self) -> int:
        return 0 if not self.total else (self.page - 1) * self.page_size + 1

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.page_size)


def _senders(range_conds: list, *conds) -> Any:
    return select(M.sender_id).where(*range_conds, *conds)


def _fallback_cond():
    return or_(and_(M.kind == "action", M.action_name == FALLBACK_ACTION),
               and_(M.kind == "user", M.intent == OUT_OF_SCOPE))


def list_conversations(session: Session, f: ConversationFilters, zone: str, page_size: int,
                       low_confidence: float = 0.5) -> Page:
    start, end = day_bounds(f.date_from, f.date_to, zone)
    rng = []
    if start:
        rng.append(M.ts >= start)
    if end:
        rng.append(M.ts < end)
    conds = [M.kind != "action", *rng]
    if f.medium:
        conds.append(M.sender_id.in_(_senders(rng, M.kind == "user", M.medium == f.medium)))
    if f.intent:
        conds.append(M.sender_id.in_(_senders(rng, M.kind == "user", M.intent == f.intent)))
    if f.low_confidence:
        conds.append(M.sender_id.in_(_senders(rng, M.kind == "user", M.confidence < low_confidence)))
    if f.fallback:
        conds.append(M.sender_id.in_(_senders(rng, _fallback_cond())))
    if f.human:
        conds.append(or_(
            M.sender_id.in_(_senders(rng, M.kind == "user", M.intent == HUMAN_INTENT)),
            M.sender_id.in_(select(HumanRequest.phone)),
        ))
    if f.unreviewed:
        newest = aliased(ConsoleMessage)
        reviewed_current = select(ConsoleReview.sender_id).where(
            ConsoleReview.reviewed.is_(True),
            ConsoleReview.reviewed_up_to >= select(func.max(newest.ts))
            .where(newest.sender_id == ConsoleReview.sender_id, newest.kind != "action")
            .scalar_subquery(),
        )
        conds.append(not_(M.sender_id.in_(reviewed_current)))
    q = (f.q or "").strip()
    if q:
        options = []
        needle = plain(q)
        if needle:
            options.append(M.sender_id.in_(_senders(rng, M.search_text.like(f"%{needle}%"))))
        digits = "".join(ch for ch in q if ch.isdigit())
        if len(digits) >= 4:
            options.append(M.sender_id.like(f"%{digits[-10:]}%"))
        phones = phones_matching(session, q)
        if phones:
            options.append(M.sender_id.in_(sorted(phones)))
        conds.append(or_(*options) if options else M.id < 0)
    grouped = (
        select(M.sender_id, func.max(M.ts).label("last_ts"), func.count(M.id).label("n"))
        .where(*conds).group_by(M.sender_id)
    )
    total = session.execute(select(func.count()).select_from(grouped.subquery())).scalar() or 0
    page = max(1, min(f.page, max(1, math.ceil(total / page_size))))
    found = session.execute(
        grouped.order_by(func.max(M.ts).desc(), M.sender_id).limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return Page(_conversation_rows(session, found, rng, low_confidence), total, page, page_size)


def _conversation_rows(session: Session, found, rng, low_confidence: float) -> list[ConversationRow]:
    senders = [r.sender_id for r in found]
    if not senders:
        return []
    farmers = farmers_by_phone(session, senders)
    reviews = {r.sender_id: r for r in session.execute(
        select(ConsoleReview).where(ConsoleReview.sender_id.in_(senders))).scalars()}
    low = dict(session.execute(
        select(M.sender_id, func.count(M.id)).where(
            M.sender_id.in_(senders), M.kind == "user", M.confidence < low_confidence, *rng)
        .group_by(M.sender_id)).all())
    fallbacks = dict(session.execute(
        select(M.sender_id, func.count(M.id)).where(M.sender_id.in_(senders), _fallback_cond(), *rng)
        .group_by(M.sender_id)).all())
    human = set(session.execute(
        select(M.sender_id).where(M.sender_id.in_(senders), M.kind == "user",
                                  M.intent == HUMAN_INTENT)).scalars())
    human |= set(session.execute(
        select(HumanRequest.phone).where(HumanRequest.phone.in_(senders))).scalars())
    rows = []
    for r in found:
        last_user = session.execute(
            select(M.text, M.medium).where(M.sender_id == r.sender_id, M.kind == "user", *rng)
            .order_by(M.ts.desc(), M.event_id.desc()).limit(1)
        ).first()
        review = reviews.get(r.sender_id)
        reviewed = bool(review and review.reviewed and review.reviewed_up_to
                        and as_utc(review.reviewed_up_to) >= as_utc(r.last_ts))
        rows.append(ConversationRow(
            sender_id=r.sender_id, last_ts=as_utc(r.last_ts), messages=r.n,
            farmers=farmers.get(r.sender_id, []),
            last_text=(last_user.text if last_user else "") or "",
            medium=last_user.medium if last_user else None,
            low_confidence=low.get(r.sender_id, 0), fallbacks=fallbacks.get(r.sender_id, 0),
            asked_human=r.sender_id in human, reviewed=reviewed,
            tags=split_tags(review.tags) if review else [],
        ))
    return rows


def known_intents(session: Session) -> list[str]:
    found = set(session.execute(select(M.intent).where(M.kind == "user", M.intent.isnot(None))
                                .distinct()).scalars())
    return sorted(found | set(domain_names()[0]))


def split_tags(text: Optional[str]) -> list[str]:
    return [t for t in (text or "").split(",") if t]


def clean_tags(text: str) -> str:
    tags = []
    for raw in re.split(r"[,;]", text or ""):
        tag = " ".join(raw.strip().lower().split())[:40]
        if tag and tag not in tags:
            tags.append(tag)
    return ",".join(tags[:20])


# --- transcript ---------------------------------------------------------------------------------

@dataclass
class TranscriptItem:
    kind: str  # user / bot / action / officer
    ts: datetime
    text: str = ""
    medium: Optional[str] = None
    event_id: Optional[int] = None
    intent: Optional[str] = None
    confidence: Optional[float] = None
    entities: list[dict] = field(default_factory=list)
    media: list[dict] = field(default_factory=list)
    location: Optional[dict] = None
    action_name: Optional[str] = None
    delivery: list[str] = field(default_factory=list)
    correction: Optional[ConsoleCorrection] = None
    author: Optional[str] = None
    reply_status: Optional[str] = None
    message_id: Optional[str] = None


def _outbound_statuses(session: Session, *, in_reply_to: Iterable[str] = (), sids: Iterable[str] = ()):
    """Delivery statuses from the messaging layer's outbound_messages (when that table exists)."""
    by_reply: dict[str, list[str]] = defaultdict(list)
    by_sid: dict[str, str] = {}
    if not has_table(session, "outbound_messages"):
        return by_reply, by_sid
    from bot.messaging.schema import OutboundMessage as O

    in_reply_to, sids = [x for x in in_reply_to if x], [x for x in sids if x]
    if in_reply_to:
        for ref, status in session.execute(
            select(O.in_reply_to, O.status).where(O.in_reply_to.in_(in_reply_to)).order_by(O.id)
        ):
            by_reply[ref].append(status)
    if sids:
        for sid, status in session.execute(select(O.twilio_sid, O.status).where(O.twilio_sid.in_(sids))):
            by_sid[sid] = status
    return by_reply, by_sid


def transcript(session: Session, sender_id: str, limit: int = 1000) -> list[TranscriptItem]:
    rows = session.execute(
        select(M).where(M.sender_id == sender_id).order_by(M.ts.desc(), M.event_id.desc()).limit(limit)
    ).scalars().all()[::-1]
    corrections = {c.event_id: c for c in session.execute(
        select(ConsoleCorrection).where(ConsoleCorrection.sender_id == sender_id)).scalars()}
    replies = session.execute(
        select(ConsoleReply).where(ConsoleReply.phone == sender_id).order_by(ConsoleReply.created_at)
    ).scalars().all()
    sids = [s for r in replies for s in (r.twilio_sids or "").split(",")]
    by_reply, by_sid = _outbound_statuses(
        session, in_reply_to={r.in_reply_to for r in rows if r.kind == "bot"}, sids=sids)
    items = []
    for r in rows:
        item = TranscriptItem(kind=r.kind, ts=as_utc(r.ts), text=r.text or "", medium=r.medium,
                              event_id=r.event_id, action_name=r.action_name,
                              message_id=r.message_id)
        if r.kind == "user":
            item.intent, item.confidence = r.intent, r.confidence
            item.entities = json.loads(r.entities_json) if r.entities_json else []
            item.media = json.loads(r.media_json) if r.media_json else []
            item.location = json.loads(r.location_json) if r.location_json else None
            item.correction = corrections.get(r.event_id)
        elif r.kind == "bot":
            item.delivery = list(dict.fromkeys(by_reply.get(r.in_reply_to or "", [])))
        items.append(item)
    for reply in replies:
        statuses = [by_sid[s] for s in (reply.twilio_sids or "").split(",") if s in by_sid]
        items.append(TranscriptItem(
            kind="officer", ts=as_utc(reply.created_at), text=reply.body, medium=reply.medium,
            author=reply.username, reply_status=reply.status, delivery=statuses,
        ))
    items.sort(key=lambda i: (i.ts, i.event_id or 0))
    return items


def last_medium(session: Session, sender_id: str) -> Optional[str]:
    return session.execute(
        select(M.medium).where(M.sender_id == sender_id, M.kind == "user", M.medium.isnot(None))
        .order_by(M.ts.desc()).limit(1)
    ).scalar()


# --- corrections --------------------------------------------------------------------------------

class CorrectionError(ValueError):
    pass


def parse_entities(text: str, spec: str, allowed: Iterable[str]) -> list[dict]:
    """Lines 'entity: fragment' or 'entity: fragment = value'; the fragment must be in the text."""
    allowed = set(allowed)
    entities = []
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
        entity = {"entity": name, "start": start, "end": end, "value": value or text[start:end]}
        entities.append(entity)
    entities.sort(key=lambda e: e["start"])
    for a, b in zip(entities, entities[1:]):
        if b["start"] < a["end"]:
            raise CorrectionError("Dos entidades se enciman en el texto.")
    return entities


def entities_spec(entities: list[dict], text: str) -> str:
    lines = []
    for e in entities or []:
        start, end = e.get("start"), e.get("end")
        fragment = text[start:end] if start is not None and end is not None else str(e.get("value", ""))
        value = str(e.get("value", fragment))
        lines.append(f"{e['entity']}: {fragment}" + (f" = {value}" if value != fragment else ""))
    return "\n".join(lines)


def save_correction(session: Session, *, event_id: int, intent: str, entities_text: str,
                    username: str) -> ConsoleCorrection:
    message = session.execute(
        select(M).where(M.event_id == event_id, M.kind == "user")).scalar_one_or_none()
    if message is None:
        raise CorrectionError("Ese mensaje no existe.")
    intents, entity_names = domain_names()
    if intent not in intents:
        raise CorrectionError(f"«{intent}» no es una intención del asistente.")
    entities = parse_entities(message.text or "", entities_text, entity_names)
    correction = session.execute(
        select(ConsoleCorrection).where(ConsoleCorrection.event_id == event_id)).scalar_one_or_none()
    if correction is None:
        correction = ConsoleCorrection(event_id=event_id, sender_id=message.sender_id,
                                       text=message.text or "", original_intent=message.intent)
        session.add(correction)
    correction.intent = intent
    correction.entities_json = json.dumps(entities, ensure_ascii=False)
    correction.corrected_by = username
    from bot.timeutil import utcnow

    correction.corrected_at = utcnow()
    session.flush()
    return correction


def _plain_piece(text: str) -> str:
    # Square brackets outside an annotation would read as entity markup to Rasa.
    return text.replace("[", "(").replace("]", ")")


def annotate(text: str, entities: list[dict]) -> str:
    """Rasa's inline entity markup: '[aguacate](product)', or the JSON form for a synonym."""
    pieces, cursor = [], 0
    for e in sorted(entities or [], key=lambda e: e["start"]):
        pieces.append(_plain_piece(text[cursor:e["start"]]))
        fragment = _plain_piece(text[e["start"]:e["end"]])
        if str(e.get("value", fragment)) == text[e["start"]:e["end"]]:
            pieces.append(f"[{fragment}]({e['entity']})")
        else:
            pieces.append(f"[{fragment}]" + json.dumps(
                {"entity": e["entity"], "value": str(e["value"])}, ensure_ascii=False))
        cursor = e["end"]
    pieces.append(_plain_piece(text[cursor:]))
    return " ".join("".join(pieces).split())


def corrections_yaml(session: Session, since: Optional[datetime] = None) -> str:
    """Corrections as a Rasa NLU training file (format 3.1), one block per intent."""
    query = select(ConsoleCorrection).order_by(ConsoleCorrection.intent, ConsoleCorrection.id)
    if since is not None:
        query = query.where(ConsoleCorrection.corrected_at >= since)
    by_intent: dict[str, list[str]] = defaultdict(list)
    for c in session.execute(query).scalars():
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


# --- dashboard ----------------------------------------------------------------------------------

@dataclass
class Dashboard:
    days: list[date]
    per_day: dict[str, list[int]]  # medium -> counts per day
    farmers_served: int
    conversations: int
    user_messages: int
    top_intents: list[tuple[str, int]]
    fallbacks: int
    out_of_scope: int
    human_requests: int
    answered: int
    reply_buckets: list[tuple[str, int]]
    median_minutes: Optional[float]
    delivery_failures_per_day: list[int]
    delivery_total: int
    delivery_failed: int


def dashboard(session: Session, day_from: date, day_to: date, zone: str) -> Dashboard:
    start, end = day_bounds(day_from, day_to, zone)
    tz = ZoneInfo(zone)
    days = [day_from + timedelta(days=i) for i in range((day_to - day_from).days + 1)]
    index = {d: i for i, d in enumerate(days)}
    per_day: dict[str, list[int]] = {m: [0] * len(days) for m in ("whatsapp", "sms", "otro")}
    rows = session.execute(
        select(M.ts, M.medium, M.kind, M.intent, M.action_name, M.sender_id)
        .where(M.ts >= start, M.ts < end)
    ).all()
    intents: Counter = Counter()
    served, conversations = set(), set()
    user_messages = fallbacks = out_of_scope = 0
    for ts, medium, kind, intent, action, sender in rows:
        if kind == "action":
            if action == FALLBACK_ACTION:
                fallbacks += 1
            continue
        day = as_utc(ts).astimezone(tz).date()
        if day in index:
            per_day[medium if medium in ("whatsapp", "sms") else "otro"][index[day]] += 1
        conversations.add(sender)
        if kind == "user":
            user_messages += 1
            served.add(sender)
            if intent:
                intents[intent] += 1
            if intent == OUT_OF_SCOPE:
                out_of_scope += 1
    if not any(per_day["otro"]):
        per_day.pop("otro")
    requests = session.execute(
        select(HumanRequest).where(HumanRequest.created_at >= start, HumanRequest.created_at < end)
    ).scalars().all()
    buckets = [("< 15 min", 0), ("15–60 min", 0), ("1–4 h", 0), ("4–24 h", 0), ("> 24 h", 0),
               ("sin respuesta", 0)]
    counts = dict(buckets)
    minutes: list[float] = []
    for request in requests:
        created = as_utc(request.created_at)
        first = session.execute(
            select(func.min(ConsoleReply.created_at)).where(
                ConsoleReply.phone == request.phone, ConsoleReply.created_at >= created,
                ConsoleReply.status != "failed")
        ).scalar()
        if first is None:
            counts["sin respuesta"] += 1
            continue
        waited = (as_utc(first) - created).total_seconds() / 60
        minutes.append(waited)
        label = ("< 15 min" if waited < 15 else "15–60 min" if waited < 60 else "1–4 h"
                 if waited < 240 else "4–24 h" if waited < 1440 else "> 24 h")
        counts[label] += 1
    failures = [0] * len(days)
    delivery_total = delivery_failed = 0
    if has_table(session, "outbound_messages"):
        from bot.messaging.schema import OutboundMessage as O

        for created, status in session.execute(
            select(O.created_at, O.status).where(O.created_at >= start, O.created_at < end)
        ):
            delivery_total += 1
            if status in FAILED_DELIVERY:
                delivery_failed += 1
                day = as_utc(created).astimezone(tz).date()
                if day in index:
                    failures[index[day]] += 1
    minutes.sort()
    median = None
    if minutes:
        mid = len(minutes) // 2
        median = minutes[mid] if len(minutes) % 2 else (minutes[mid - 1] + minutes[mid]) / 2
    return Dashboard(
        days=days, per_day=per_day, farmers_served=len(served), conversations=len(conversations),
        user_messages=user_messages, top_intents=intents.most_common(10), fallbacks=fallbacks,
        out_of_scope=out_of_scope, human_requests=len(requests), answered=len(minutes),
        reply_buckets=[(label, counts[label]) for label, _ in buckets], median_minutes=median,
        delivery_failures_per_day=failures, delivery_total=delivery_total,
        delivery_failed=delivery_failed,
    )


def normalise_query_phone(text: str) -> Optional[str]:
    return try_normalize_phone(text) if text else None
