"""Broadcasts (issue 14): an officer writes a message for an audience, sees how many it reaches and
the exact text each medium gets, and sends it for approval; an admin other than its author
approves or rejects it; then the notice scheduler plans one notice per phone
(bot/records/broadcasts.py) and each goes by the usual rules (bot/messaging/notices.py). Each
broadcast's page counts its notices and how Twilio delivered them. Every step is audited.

The text must fit 2 SMS parts as a basic phone gets it (GSM-7, accents folded), heading
included: SMS is every farmer's fallback when WhatsApp cannot take the message."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from bot.console.auth import StaffUser
from bot.console.queries import audit
from bot.console.queries import broadcasts as queries
from bot.console.services.notices import DELIVERY_COUNTS, STATUS_COUNT_LABELS, Count
from bot.messaging import optout
from bot.messaging.formatting import shape_sms_text, sms_parts
from bot.messaging.notices import NoticeSettings
from bot.records import broadcasts as records
from bot.records.broadcasts import Audience, AudienceChoices, AudienceCount, NotAllowed
from bot.records.notice_schema import Broadcast
from bot.records.vocabulary import BROADCAST_STATUSES, MEDIA, NOTICE_STATUSES, label
from bot.replies.notices import broadcast_notice
from bot.timeutil import utcnow

MAX_SMS_PARTS = 2
TEMPLATE_KIND = "broadcast"  # NOTICE_TEMPLATE_BROADCAST: the approved WhatsApp template
PROBLEMS = {
    "empty": "Escriba el mensaje.",
    "too_long": "El mensaje no cabe en 2 SMS ({parts} partes). Acórtelo: en SMS cada parte son 153 letras.",
    "no_one": "Nadie del público elegido aceptó recibir noticias del programa.",
}
DECISIONS = {
    "approved": "Aprobada. Los mensajes salen en unos minutos, de día en la zona de cada productor.",
    "rejected": "Rechazada. Quien la escribió la verá así, con su nota.",
    "own": "No puede aprobar ni rechazar una difusión que usted escribió: debe hacerlo otra persona.",
    "decided": "Esa difusión ya se aprobó o se rechazó.",
}


@dataclass(frozen=True)
class MediumText:
    """What one medium gets, exactly."""

    medium: str
    label: str
    body: str
    note: str
    parts: int | None = None  # SMS billed parts


@dataclass(frozen=True)
class Preview:
    text: str
    audience: Audience
    count: AudienceCount
    opted_out: int  # of those who want news, numbers that since said BAJA
    texts: list[MediumText]
    problem: str | None = None

    @property
    def reachable(self) -> int:
        return self.count.wanting - self.opted_out


@dataclass
class BroadcastMark:
    broadcast: Broadcast
    status_label: str
    audience_label: str
    status_counts: list[Count] = field(default_factory=list)
    delivery_counts: list[Count] = field(default_factory=list)


def choices(session: Session) -> AudienceChoices:
    return records.audience_choices(session)


def medium_texts(text: str) -> list[MediumText]:
    said = broadcast_notice({"text": text})
    sms = shape_sms_text(said)  # as one message: the parts are counted, never split here
    template = NoticeSettings.from_env().templates.get(TEMPLATE_KIND)
    outside = (
        "Fuera de las 24 horas: la plantilla aprobada con este texto."
        if template
        else "Fuera de las 24 horas no hay plantilla aprobada (NOTICE_TEMPLATE_BROADCAST): va por SMS."
    )
    return [
        MediumText("whatsapp", MEDIA["whatsapp"], said, f"Dentro de las 24 horas: este texto. {outside}"),
        MediumText(
            "sms", MEDIA["sms"], sms, "Sin acentos en á, í, ó, ú: así cuesta menos.", sms_parts(sms).parts
        ),
    ]


def preview(session: Session, text: str, audience: Audience) -> Preview:
    text = (text or "").strip()
    reach = records.reach_of(session, audience)
    texts = medium_texts(text) if text else []
    opted_out = len(optout.opted_out_among(session, sorted(reach.wanting)))
    count = reach.count
    return Preview(text, audience, count, opted_out, texts, _problem(text, texts, count.wanting - opted_out))


def _problem(text: str, texts: list[MediumText], reachable: int) -> str | None:
    if not text:
        return PROBLEMS["empty"]
    parts = max((t.parts or 0) for t in texts)
    if parts > MAX_SMS_PARTS:
        return PROBLEMS["too_long"].format(parts=parts)
    if reachable == 0:
        return PROBLEMS["no_one"]
    return None


def compose(session: Session, actor: StaffUser, text: str, audience: Audience) -> Broadcast | Preview:
    """Stores the broadcast for approval, or returns the preview with what stops it. An
    audience naming a medium or an organisation that does not exist is a caller's error."""
    if audience.medium not in (None, *MEDIA) or (
        audience.organisation_id and records.organisation_name(session, audience.organisation_id) is None
    ):
        raise ValueError("unknown medium or organisation")
    shown = preview(session, text, audience)
    if shown.problem:
        return shown
    broadcast = records.compose(session, shown.text, audience, actor.username, utcnow())
    phones = "1 teléfono" if shown.reachable == 1 else f"{shown.reachable} teléfonos"
    audit.record(session, actor, "compose_broadcast", detail=f"difusión {broadcast.id}; {phones}")
    return broadcast


@dataclass(frozen=True)
class Decision:
    message: str
    refused: bool  # the rules refused it (the author's own, or already decided)


def decide(
    session: Session, actor: StaffUser, broadcast_id: int, approved: bool, note: str = ""
) -> Decision | None:
    """An admin approves or rejects; None when there is no such broadcast."""
    broadcast = records.broadcast_by_id(session, broadcast_id, for_update=True)
    if broadcast is None:
        return None
    try:
        records.decide(session, broadcast, approved, actor.username, utcnow(), note)
    except NotAllowed as refused:
        return Decision(DECISIONS["own" if str(refused) == "own broadcast" else "decided"], refused=True)
    action = "approve_broadcast" if approved else "reject_broadcast"
    audit.record(session, actor, action, detail=f"difusión {broadcast.id}")
    return Decision(DECISIONS[broadcast.status], refused=False)


def audience_label(audience: Audience, organisation: str | None) -> str:
    """ "Michoacán · aguacate · SMS", or "todos los productores"."""
    medium = MEDIA.get(audience.medium or "")
    parts = [audience.state, audience.municipality, audience.product, organisation, medium]
    return " · ".join(p for p in parts if p) or "todos los productores"


def marks_of(session: Session, found: list[Broadcast]) -> list[BroadcastMark]:
    """The broadcasts with their counts, in three queries however many they are."""
    subjects = [records.subject_of(b.id) for b in found]
    by_status = records.notice_counts_by_subject(session, subjects)
    sent = queries.sent_counts_by_subject(session, subjects)
    organisations = records.organisation_names(
        session, [b.organisation_id for b in found if b.organisation_id]
    )
    return [
        BroadcastMark(
            b,
            label(BROADCAST_STATUSES, b.status),
            audience_label(records.audience_of(b), organisations.get(b.organisation_id or 0)),
            _status_counts(by_status.get(records.subject_of(b.id), {})),
            _delivery_counts(sent.get(records.subject_of(b.id), {})),
        )
        for b in found
    ]


def _status_counts(counts: dict[str, int]) -> list[Count]:
    return [
        Count(STATUS_COUNT_LABELS.get(code, name), counts[code], code)
        for code, name in NOTICE_STATUSES.items()
        if counts.get(code)
    ]


def _delivery_counts(counts: dict[str, int]) -> list[Count]:
    return [Count(name, sum(counts.get(s, 0) for s in statuses)) for name, statuses in DELIVERY_COUNTS]


def broadcasts_list(session: Session, actor: StaffUser) -> list[BroadcastMark]:
    """The latest broadcasts, newest first (no personal data: texts and counts); audited."""
    marks = marks_of(session, records.newest(session))
    audit.record(session, actor, "list_broadcasts", detail=f"{len(marks)} difusiones")
    return marks


@dataclass(frozen=True)
class BroadcastPage:
    mark: BroadcastMark
    preview: Preview  # the audience as it is now, and the text per medium
    can_decide: bool  # an admin who is not its author, while it waits


def broadcast_page(session: Session, actor: StaffUser, broadcast_id: int) -> BroadcastPage | None:
    broadcast = records.broadcast_by_id(session, broadcast_id)
    if broadcast is None:
        return None
    audit.record(session, actor, "view_broadcast", detail=f"difusión {broadcast.id}")
    can_decide = (
        actor.can("approve_broadcasts")
        and broadcast.status == "pending"
        and actor.username != broadcast.composed_by
    )
    (mark,) = marks_of(session, [broadcast])
    return BroadcastPage(
        mark,
        preview(session, broadcast.text, records.audience_of(broadcast)),
        can_decide,
    )
