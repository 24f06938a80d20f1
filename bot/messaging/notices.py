"""Notices (issue 14): planned from what changed in the records, released into the farmer's
conversation when every rule allows, and sent as that turn's replies.

Releasing a due notice, in one unit of work with its claim:

1. Not to a number that opted out (BAJA), nor one without consent to the privacy notice (payment
   notices and reminders of a session the farmer enrolled in are service messages that consent
   covers; news of a new session needs the farmer's yes to news, bot/records/news.py), nor a
   farmer who opposed notices (ARCO), nor about a session that changed since the
   notice was planned (bot/records/training_notices.py): skipped, with the reason for staff. A
   broadcast needs a yes to news that covers broadcasts, and no opposition to broadcasts.
   The sender checks BAJA again when it sends.
2. Not at night where the farmer lives (their state's zone, bot/records/state_zones.py): between
   ``quiet_start`` and ``quiet_end`` it waits for the morning.
3. The route: WhatsApp text inside the 24-hour window the farmer's last WhatsApp message opened;
   outside it the kind's approved Content template (ContentSid and variables: free text fails
   with 63016), while the account is under WhatsApp's messaging limit (unique users written to
   outside the window in 24 hours; over it Twilio fails with 63018); with no template, or over
   the limit, SMS, and staff see why.
4. Stored as an inbound message of kind "notice" with its own id (NT…), so it enters the
   conversation by the farmer's own path: the caller schedules it (embedded) or publishes it to
   the farmer's queue (production). Rasa runs the "notice" intent (bot/assistant/notices.py),
   whose reply, sent as proactive, is the notice, and the conversation knows what it said.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.messaging import inbound, optout, outbox
from bot.messaging.delivery import address_for
from bot.messaging.formatting import pack_for_medium
from bot.messaging.inbound import Inbound
from bot.messaging.outbound import Outgoing
from bot.records import broadcasts, consents, news, notices, oppositions, training_notices
from bot.records.notice_schema import Notice
from bot.records.schema import Farmer
from bot.records.state_zones import zone_of
from bot.records.training_notices import ReminderSchedule
from bot.replies.notices import payment_what, training_variables
from bot.timeutil import as_utc

logger = logging.getLogger(__name__)

WHATSAPP_WINDOW = timedelta(hours=24)
# Any fixed number the schedulers agree on ("ppwl", WhatsApp's messaging limit).
WHATSAPP_LIMIT_LOCK_KEY = 0x7070776C
# The approved Content template of each kind of notice: NOTICE_TEMPLATE_<KIND>=HX...
TEMPLATE_ENV = "NOTICE_TEMPLATE_"
NOTES = {
    "opted_out": "El número pidió BAJA.",
    "no_consent": "El número no ha aceptado el aviso de privacidad.",
    "opposed": "El productor se opuso a recibir avisos.",
    "stale": "La inscripción se canceló, o la capacitación cambió o se canceló, antes de la hora del aviso.",
    "no_news": "El número no pidió noticias del programa, o ya no las quiere.",
    "quiet": "Espera a las {hour}:00, hora del productor: no se envían avisos de noche.",
    "no_template": "Fuera de las 24 horas de WhatsApp y sin plantilla aprobada para este aviso: va por SMS.",
    "whatsapp_limit": (
        "La cuenta ya escribió a {limit} productores por WhatsApp en 24 horas sin que ellos escribieran "
        "(límite de WhatsApp): va por SMS."
    ),
}


@dataclass(frozen=True)
class NoticeSettings:
    quiet_start: int = 21  # NOTICE_QUIET_START: from this hour, local time...
    quiet_end: int = 9  # NOTICE_QUIET_END: ...until this one, nothing is released
    batch: int = 100  # NOTICE_BATCH: notices released per unit of work
    interval: float = 5.0  # NOTICE_INTERVAL: seconds between rounds
    # NOTICE_TRAININGS_INTERVAL: seconds between readings of the enrolments of sessions to come
    # (reminders are due at an hour, not a second; payments are read every round)
    trainings_interval: float = 60.0
    embedded: bool = True  # NOTICE_EMBEDDED=0: the channels' process runs no scheduler
    # NOTICE_WHATSAPP_DAILY_USERS: WhatsApp's messaging limit of the account's business portfolio,
    # unique users written to outside the customer-service window in a moving 24 hours (250 for a
    # new portfolio; 2,000, 10,000 and 100,000 as Meta raises it; 0 for unlimited).
    whatsapp_daily_users: int = 250
    # NOTICE_BACKLOG: news and broadcasts are released only while fewer notices than this wait to
    # be answered in the farmers' conversations (their queues), so a broadcast of thousands never
    # stands between a farmer and the answer to what they wrote; payments and reminders go anyway.
    backlog: int = 200
    # NOTICE_REMINDER_DAYS ("2,0": two days before and the same day) at NOTICE_REMINDER_HOUR (9),
    # in the venue's time zone
    reminders: ReminderSchedule = field(default_factory=ReminderSchedule)
    templates: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> NoticeSettings:
        env = os.environ if environ is None else environ

        def number(name: str, default: float) -> float:
            raw = env.get(name, "").strip()
            return float(raw) if raw else default

        return cls(
            quiet_start=int(number("NOTICE_QUIET_START", cls.quiet_start)),
            quiet_end=int(number("NOTICE_QUIET_END", cls.quiet_end)),
            batch=int(number("NOTICE_BATCH", cls.batch)),
            interval=number("NOTICE_INTERVAL", cls.interval),
            trainings_interval=number("NOTICE_TRAININGS_INTERVAL", cls.trainings_interval),
            embedded=env.get("NOTICE_EMBEDDED", "1").strip() not in ("0", "false", "no"),
            whatsapp_daily_users=int(number("NOTICE_WHATSAPP_DAILY_USERS", cls.whatsapp_daily_users)),
            backlog=int(number("NOTICE_BACKLOG", cls.backlog)),
            reminders=ReminderSchedule(
                days_before=tuple(
                    int(day) for day in env.get("NOTICE_REMINDER_DAYS", "2,0").split(",") if day.strip()
                ),
                hour=int(number("NOTICE_REMINDER_HOUR", ReminderSchedule.hour)),
            ),
            templates={
                name[len(TEMPLATE_ENV) :].lower(): value.strip()
                for name, value in env.items()
                if name.startswith(TEMPLATE_ENV) and value.strip()
            },
        )

    def is_quiet(self, local: datetime) -> bool:
        return local.hour >= self.quiet_start or local.hour < self.quiet_end

    def morning_after(self, local: datetime) -> datetime:
        """The end of the quiet hours this moment falls in (a local, aware datetime)."""
        day = local.date() + timedelta(days=1) if local.hour >= self.quiet_start else local.date()
        return datetime.combine(day, time(self.quiet_end), tzinfo=local.tzinfo)


@dataclass(frozen=True)
class Route:
    route: str  # notice_schema NOTICE_ROUTES
    medium: str
    address: str
    content_sid: str | None = None
    note: str | None = None


def plan(session: Session, now: datetime, settings: NoticeSettings, trainings: bool = True) -> int:
    """Plans the notices of what changed since the last round (one per farmer's phone and event)
    and, with ``trainings``, those about the sessions to come."""
    planned = notices.plan_payment_notices(session, now) + broadcasts.plan_broadcast_notices(session, now)
    if trainings:
        planned += training_notices.plan_training_notices(session, now, settings.reminders)
    return planned


def _refusal(session: Session, notice: Notice) -> tuple[str, str] | None:
    """Why this notice must not go at all, as (status, note); None when it may."""
    if not training_notices.still_applies(session, notice):
        return "skipped_stale", NOTES["stale"]
    if optout.is_opted_out(session, notice.phone):
        return "skipped_opt_out", NOTES["opted_out"]
    if notice.kind == "training_new" and not news.wants_news(session, notice.phone):
        return "skipped_no_news", NOTES["no_news"]
    if notice.kind == "broadcast" and not news.wants_broadcasts(session, notice.phone):
        return "skipped_no_news", NOTES["no_news"]
    if not consents.has_consented(session, notice.phone):
        return "skipped_no_consent", NOTES["no_consent"]
    if notice.farmer_id and _opposed(session, notice):
        return "skipped_opposed", NOTES["opposed"]
    return None


def _opposed(session: Session, notice: Notice) -> bool:
    purposes = ("notices", "broadcasts") if notice.kind == "broadcast" else ("notices",)
    return any(oppositions.excluded(session, notice.farmer_id, p, notice.phone) for p in purposes)


def route_for(
    session: Session,
    notice: Notice,
    farmer: Farmer | None,
    settings: NoticeSettings,
    now: datetime,
    places: WhatsAppPlaces,
) -> Route:
    preferred = farmer.preferred_medium if farmer is not None else "whatsapp"
    if preferred == "whatsapp":
        last = inbound.last_received_at(session, notice.phone, "whatsapp")
        address = address_for(session, notice.phone, "whatsapp")
        if last is not None and now - last < WHATSAPP_WINDOW:
            return Route("whatsapp_text", "whatsapp", address)
        template = settings.templates.get(notice.kind)
        if not template:
            return Route("sms_no_template", "sms", notice.phone, note=NOTES["no_template"])
        if not places.opens(notice.phone):
            return Route(
                "sms",
                "sms",
                notice.phone,
                note=NOTES["whatsapp_limit"].format(limit=settings.whatsapp_daily_users),
            )
        return Route("whatsapp_template", "whatsapp", address, content_sid=template)
    return Route("sms", "sms", notice.phone)


class WhatsAppPlaces:
    """WhatsApp's messaging limit within one round: at most ``limit`` unique users written to by
    business-initiated messages (templates, outside the customer-service window) in a moving 24
    hours (0: no limit). They are the notices released as a template and every template sent (an
    officer's reply from the console too); a phone already written to that way is no new user.
    Read once a round, at its first template, under a transaction lock on PostgreSQL (so two
    schedulers never both take the last place), then kept as the round takes places."""

    def __init__(self, session: Session, now: datetime, limit: int):
        self.session, self.now, self.limit = session, now, limit
        self._phones: set[str] | None = None

    def opens(self, phone: str) -> bool:
        """Whether a template to this phone keeps the account under the limit; it takes its place."""
        if self.limit <= 0:
            return True
        phones = self._read() if self._phones is None else self._phones
        if phone not in phones and len(phones) >= self.limit:
            return False
        phones.add(phone)
        return True

    def _read(self) -> set[str]:
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(select(func.pg_advisory_xact_lock(WHATSAPP_LIMIT_LOCK_KEY)))
        since = self.now - WHATSAPP_WINDOW
        self._phones = notices.whatsapp_template_phones_since(
            self.session, since
        ) | outbox.template_phones_since(self.session, since)
        return self._phones


def _release(
    session: Session,
    notice: Notice,
    settings: NoticeSettings,
    now: datetime,
    store: Callable[..., Any],
    places: WhatsAppPlaces,
) -> Any:
    refusal = _refusal(session, notice)
    if refusal is not None:
        notices.mark_skipped(notice, *refusal)
        logger.info("notice %d not sent: %s", notice.id, refusal[0])
        return None
    farmer = session.get(Farmer, notice.farmer_id) if notice.farmer_id else None
    local = now.astimezone(zone_of(farmer.state if farmer else None, farmer.municipality if farmer else None))
    if settings.is_quiet(local):
        morning = settings.morning_after(local)
        notices.hold_until(notice, as_utc(morning), NOTES["quiet"].format(hour=settings.quiet_end))
        logger.info("notice %d waits for the morning (%s)", notice.id, morning.isoformat())
        return None
    route = route_for(session, notice, farmer, settings, now, places)
    sid = notices.mark_released(session, notice, route.route, route.content_sid, now, route.note)
    message = Inbound(
        message_sid=sid,
        medium=route.medium,
        phone=notice.phone,
        from_address=route.address,
        to_address="",
        body="",
        profile_name=None,
        wa_id=None,
        media=[],
        location=None,
        raw_params={"notice_id": str(notice.id), "kind": notice.kind},
    )
    logger.info("notice %d released as %s by %s", notice.id, sid, route.route)
    return store(session, message)


@dataclass(frozen=True)
class Round:
    released: list[Any]  # what ``store`` returned for each notice released, in order
    claimed: int  # notices taken from the schedule: released, skipped, or held for the morning


def release_round(
    session: Session, settings: NoticeSettings, now: datetime, store: Callable[[Session, Inbound], Any]
) -> Round:
    """Releases the notices due by ``now`` that every rule allows; ``store`` puts each in the
    farmer's conversation inside this unit of work and returns what the caller needs to run it
    (the message, or its place in the farmer's sequence). News and broadcasts only fill the room
    the backlog leaves. A round that claimed a whole batch means more may be due at once, however
    many of them were skipped or held for the morning."""
    released = []
    room = max(0, settings.backlog - inbound.unanswered_notices(session))
    claimed = notices.claim_due(session, now, settings.batch, bulk_limit=room)
    places = WhatsAppPlaces(session, now, settings.whatsapp_daily_users)
    for notice in claimed:
        stored = _release(session, notice, settings, now, store, places)
        if stored is not None:
            released.append(stored)
    session.flush()
    return Round(released, len(claimed))


def store_embedded(session: Session, message: Inbound) -> Inbound | None:
    """The embedded default's store: the message as a webhook would store it."""
    return message if inbound.store_inbound(session, message) else None


# -- the notice's replies ---------------------------------------------------------------------


def template_variables(session: Session, notice: Notice) -> dict[str, str]:
    """The approved template's variables, the same words as the text in the conversation
    (bot/replies/notices.py): for a payment {{1}} the folio and {{2}} what happened; for a
    training {{1}} the title, {{2}} when and {{3}} the venue; for a broadcast {{1}} its text."""
    facts = notices.variables_of(notice)
    if notice.kind == "broadcast":
        return {"1": str(facts.get("text", ""))}
    if notice.kind != "payment":
        return training_variables(facts)
    what = payment_what(facts, notices.reason_of(facts), notices.what_to_do_of(session, facts))
    return {"1": str(facts.get("folio", "")), "2": what}


def outgoing_for(session: Session, message: Inbound, texts: list[str]) -> list[Outgoing] | None:
    """A notice turn's replies as they go out: proactive (so BAJA is checked at send time), and
    the approved template outside WhatsApp's window. None when the message is not a notice."""
    notice_id = notices.notice_id_in(message.message_sid)
    notice = notices.notice_by_id(session, notice_id) if notice_id is not None else None
    if notice is None:
        return None
    base = Outgoing(
        message.medium, message.phone, message.from_address, in_reply_to=message.message_sid, proactive=True
    )
    if notice.route == "whatsapp_template" and notice.content_sid:
        variables = json.dumps(template_variables(session, notice), ensure_ascii=False)
        return [replace(base, content_sid=notice.content_sid, content_variables=variables)]
    return [replace(base, body=body) for body in pack_for_medium(message.medium, texts)]
