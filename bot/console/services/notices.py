"""The notices page (issue 14): every notice the program planned, the newest first, with whose it
is, where it stands (waiting, handed to the conversation, or not sent and why), how it went out
and how Twilio delivered its messages (a failure with its reason in plain words); counts per
status and per delivery at the top. Also a phone's notices, for its transcript. Every listing is
audited: it names farmers and their phones."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from bot.console.auth import StaffUser
from bot.console.queries import audit
from bot.console.queries import notices as queries
from bot.console.queries.notices import SentMessage
from bot.console.services.paging import Page, fetch_page
from bot.console.vocabulary import twilio_error_reason
from bot.messaging.statuses import FAILED_STATUSES, delivery_label
from bot.records.farmers import farmers_by_id
from bot.records.notice_schema import Notice
from bot.records.notices import notices_for_phone
from bot.records.schema import Farmer
from bot.records.vocabulary import NOTICE_KINDS, NOTICE_ROUTES, NOTICE_STATUSES, NOTICE_SUBJECTS, label
from bot.timeutil import as_utc

ALL = ""  # the status filter: every notice
# The counts at the top, in plural; a status added to NOTICE_STATUSES later shows its own label.
STATUS_COUNT_LABELS: dict[str, str] = {
    "scheduled": "programados",
    "released": "entregados a la conversación",
    "skipped_opt_out": "no enviados: el número pidió BAJA",
    "skipped_no_consent": "no enviados: sin consentimiento al aviso de privacidad",
    "skipped_opposed": "no enviados: el productor se opuso a los avisos o a la difusión",
    "skipped_no_phone": "no enviados: el productor no tiene teléfono",
    "skipped_no_news": "no enviados: no pidieron noticias del programa",
}
# How the notices' messages went, by Twilio's latest status: (label, statuses counted).
DELIVERY_COUNTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("enviados", ("sent",)),
    ("entregados", ("delivered", "partially_delivered")),
    ("leídos", ("read",)),
    ("fallidos", FAILED_STATUSES),
)


@dataclass(frozen=True)
class Count:
    label: str
    count: int
    status: str | None = None  # the filter it links to


@dataclass(frozen=True)
class Delivery:
    """One message a notice sent: its status in Spanish and, for an error, Twilio's code and why."""

    status: str
    label: str
    failed: bool
    error_code: str | None
    reason: str | None


@dataclass
class NoticeMark:
    """A notice as staff read it, on the notices page and in a transcript."""

    notice: Notice
    kind_label: str
    status_label: str
    route_label: str | None
    deliveries: list[Delivery] = field(default_factory=list)
    farmer: Farmer | None = None

    @property
    def subject_label(self) -> str:
        """What it is about: "factura F-204518", "capacitación CAP-0042"."""
        return f"{label(NOTICE_SUBJECTS, self.notice.kind)} {self.notice.subject}"

    @property
    def sent(self) -> bool:
        return self.notice.status == "released"

    @property
    def waiting(self) -> bool:
        return self.notice.status == "scheduled"


@dataclass
class NoticesPage:
    page: Page  # of NoticeMark
    status: str  # the filter: a notice status, or ALL
    statuses: list[tuple[str, str]]  # the filter's choices: (code, label)
    status_counts: list[Count]
    delivery_counts: list[Count]


def delivery_of(message: SentMessage) -> Delivery:
    return Delivery(
        status=message.status,
        label=delivery_label(message.status),
        failed=message.status in FAILED_STATUSES,
        error_code=message.error_code or None,
        reason=twilio_error_reason(message.error_code),
    )


def mark_of(notice: Notice, sent: list[SentMessage], farmer: Farmer | None = None) -> NoticeMark:
    return NoticeMark(
        notice=notice,
        kind_label=label(NOTICE_KINDS, notice.kind),
        status_label=label(NOTICE_STATUSES, notice.status),
        route_label=label(NOTICE_ROUTES, notice.route) if notice.route else None,
        deliveries=[delivery_of(m) for m in sent],
        farmer=farmer,
    )


def status_filter(requested: str | None) -> str:
    """A known notice status, else every notice."""
    return requested if requested in NOTICE_STATUSES else ALL


def notices_page(session: Session, actor: StaffUser, status: str, page: int, page_size: int) -> NoticesPage:
    """One page of notices (in ``status``, or all), newest first, with the counts; audited."""
    status = status_filter(status)
    statuses = (status,) if status else None
    found = fetch_page(
        page,
        page_size,
        lambda: queries.count_notices(session, statuses),
        lambda limit, offset: queries.newest_notices(session, statuses, limit=limit, offset=offset),
    )
    rows: list[Notice] = found.rows
    farmers = farmers_by_id(session, [n.farmer_id for n in rows if n.farmer_id])
    sent = queries.sent_messages(session, [n.message_sid for n in rows])
    found.rows = [mark_of(n, sent.get(n.message_sid or "", []), farmers.get(n.farmer_id or 0)) for n in rows]
    audit.record(
        session,
        actor,
        "list_notices",
        detail=f"página {found.page}; {found.total} avisos" + (f"; estado {status}" if status else ""),
    )
    return NoticesPage(
        page=found,
        status=status,
        statuses=list(NOTICE_STATUSES.items()),
        status_counts=_status_counts(session),
        delivery_counts=_delivery_counts(session),
    )


def _status_counts(session: Session) -> list[Count]:
    counts = queries.counts_by_status(session)
    return [
        Count(STATUS_COUNT_LABELS.get(code, name), counts.get(code, 0), code)
        for code, name in NOTICE_STATUSES.items()
    ]


def _delivery_counts(session: Session) -> list[Count]:
    counts = queries.sent_counts_by_status(session)
    return [Count(name, sum(counts.get(s, 0) for s in statuses)) for name, statuses in DELIVERY_COUNTS]


# -- a phone's notices, for its transcript ------------------------------------------------------


@dataclass
class PhoneNotices:
    by_sid: dict[str, NoticeMark]  # released notices, by their message id in the conversation (NT...)
    marks: list[NoticeMark]  # every notice of the phone, newest first

    def moment(self, mark: NoticeMark) -> datetime:
        """Where a notice's own line goes in the conversation: when it was handed to it, when it
        was due (a notice not sent was decided then), or when it was planned (one still waiting)."""
        notice = mark.notice
        if notice.released_at is not None:
            return as_utc(notice.released_at)
        if mark.waiting:
            return as_utc(notice.created_at)
        return as_utc(notice.due_at)


def phone_notices(session: Session, phone: str) -> PhoneNotices:
    """The notices of one phone (the latest 50) with the messages each sent; two queries."""
    found = notices_for_phone(session, phone)
    sent = queries.sent_messages(session, [n.message_sid for n in found])
    marks = [mark_of(n, sent.get(n.message_sid or "", [])) for n in found]
    return PhoneNotices({m.notice.message_sid: m for m in marks if m.notice.message_sid}, marks)
