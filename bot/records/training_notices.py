"""Planning the notices about trainings (issue 14): reminders before a session a farmer enrolled
in, and a word to everyone enrolled when staff move or cancel it. Functions take the caller's
Session; the caller owns the unit of work. The rules every notice obeys (consent, BAJA, night,
medium) are bot/messaging/notices.py's; the sentences, bot/replies/notices.py's.

- **Reminders** at ``days_before`` (2 and 0: two days before and the same day) at ``hour`` in the
  venue's time zone, for each phone of each farmer with an active enrolment. A reminder whose
  time is less than an hour before the session, or before the farmer enrolled, is not planned.
  Its idempotency key holds the session's start, so a session moved is reminded again at the
  new date, and the reminders of the old date are dropped when their time comes (``still_applies``).
  Reminders are planned for sessions in the next ``max(days_before) + 1`` days.
- **Moved**: an enrolment remembers what its farmer was told (``told_starts_at``, ``told_venue``,
  set when they enrolled); when the session's start or venue differ, every phone is told the
  new ones, once, and the enrolment remembers them.
- **Cancelled**: every active enrolment of a cancelled session that has not started yet is told,
  once.
- **New**: a session added since revision 0015, with seats, starting in more than a day, is
  announced once to every phone in its municipality or state whose farmer asked for news
  (bot/records/news.py) and is not enrolled in it; then the session is marked announced.

The planner reads the active enrolments of sessions to come (a few thousand rows at most), not a
cursor: what a farmer must hear depends on the session as it stands, whoever changed it (the
console, a CSV import). It inserts only the notices whose key is new.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.records import news
from bot.records.notice_schema import Notice
from bot.records.notices import PRIORITIES, plan_rows, variables_of
from bot.records.schema import Enrolment, Farmer, FarmerPhone, Training
from bot.timeutil import as_utc

TRAINING_KINDS = ("reminder", "training_moved", "training_cancelled", "training_new")
# A reminder closer than this to the session's start is too late to be of use.
LAST_USEFUL_REMINDER = timedelta(hours=1)
# A reminder whose time passed longer ago than this when it is planned (the session was moved
# to an earlier date, which its own notice tells) is not sent.
LATE_REMINDER = timedelta(hours=1)
# A new session starting sooner than this is not announced: too late to plan to go.
ANNOUNCE_AHEAD = timedelta(days=1)


@dataclass(frozen=True)
class ReminderSchedule:
    days_before: tuple[int, ...] = (2, 0)  # NOTICE_REMINDER_DAYS
    hour: int = 9  # NOTICE_REMINDER_HOUR, in the venue's time zone


def plan_training_notices(session: Session, now: datetime, schedule: ReminderSchedule) -> int:
    """Plans what is due about trainings (reminders, moved, cancelled); returns how many are new."""
    horizon = now + timedelta(days=max(schedule.days_before, default=0) + 1)
    rows = session.execute(
        select(Enrolment, Training, FarmerPhone.phone)
        .join(Training, Training.id == Enrolment.training_id)
        .join(FarmerPhone, FarmerPhone.farmer_id == Enrolment.farmer_id)
        .where(Enrolment.status == "active", Training.starts_at > now)
        .order_by(Training.starts_at, Enrolment.id, FarmerPhone.phone)
    ).all()
    candidates: list[dict[str, Any]] = []
    for enrolment, training, phone in rows:
        if training.cancelled:
            candidates.append(_cancelled_row(training, enrolment, phone, now))
        elif _moved(enrolment, training):
            candidates.append(_moved_row(training, enrolment, phone, now))
        elif as_utc(training.starts_at) <= horizon:
            candidates += _reminder_rows(training, enrolment, phone, now, schedule)
    _remember_told(enrolment for enrolment, training, _ in rows if not training.cancelled)
    return plan_rows(session, candidates + _announcement_rows(session, now))


def _announcement_rows(session: Session, now: datetime) -> list[dict[str, Any]]:
    """Each new session with seats, starting after ``ANNOUNCE_AHEAD``, once: to every phone in
    its municipality or state that asked for news and is not enrolled in it already."""
    new = session.execute(
        select(Training).where(
            Training.created_at.is_not(None),
            Training.announced_at.is_(None),
            Training.cancelled.is_(False),
            Training.starts_at > now + ANNOUNCE_AHEAD,
            Training.seats_taken < Training.capacity,
        )
    ).scalars()
    rows = []
    for training in new:
        nearby = session.execute(
            select(Farmer.id, FarmerPhone.phone)
            .join(FarmerPhone, FarmerPhone.farmer_id == Farmer.id)
            .where(or_(Farmer.municipality == training.municipality, Farmer.state == training.state))
        ).all()
        enrolled = set(
            session.execute(
                select(Enrolment.farmer_id).where(
                    Enrolment.training_id == training.id, Enrolment.status == "active"
                )
            ).scalars()
        )
        wanting = news.phones_wanting_news(session, [phone for _, phone in nearby])
        rows += [
            _row(
                f"training_new:{training.code}:{phone}",
                "training_new",
                training,
                farmer_id,
                phone,
                due_at=now,
                now=now,
            )
            for farmer_id, phone in nearby
            if phone in wanting and farmer_id not in enrolled
        ]
        training.announced_at = now
    return rows


def still_applies(session: Session, notice: Notice) -> bool:
    """Whether a notice about a training still says what is true when its time comes: the
    enrolment active (an announcement: the session still open), and (but for a cancellation)
    the session neither cancelled nor moved to another date or venue since."""
    if notice.kind not in TRAINING_KINDS:
        return True
    facts = variables_of(notice)
    training = session.get(Training, facts.get("training_id"))
    if training is None:
        return False
    if notice.kind != "training_new":
        enrolment = session.execute(
            select(Enrolment).where(
                Enrolment.training_id == training.id, Enrolment.farmer_id == notice.farmer_id
            )
        ).scalar_one_or_none()
        if enrolment is None or enrolment.status != "active":
            return False
    if notice.kind == "training_cancelled":
        return bool(training.cancelled)
    as_planned = facts.get("starts_at") == _iso(training.starts_at) and facts.get("venue") == training.venue
    return not training.cancelled and as_planned


def training_facts(training: Training) -> dict[str, Any]:
    """What a notice about a training names, as the session stood when it was planned."""
    return {
        "training_id": training.id,
        "code": training.code,
        "title": training.title,
        "starts_at": _iso(training.starts_at),
        "timezone": training.timezone,
        "venue": training.venue,
        "municipality": training.municipality,
    }


def _iso(moment: datetime) -> str:
    return as_utc(moment).isoformat(timespec="minutes")


def _moved(enrolment: Enrolment, training: Training) -> bool:
    if enrolment.told_starts_at is None:  # enrolled before enrolments remembered it
        return False
    return (
        as_utc(enrolment.told_starts_at) != as_utc(training.starts_at)
        or enrolment.told_venue != training.venue
    )


def _remember_told(enrolments: Iterable[Enrolment]) -> None:
    for enrolment in enrolments:
        enrolment.told_starts_at, enrolment.told_venue = (
            enrolment.training.starts_at,
            enrolment.training.venue,
        )


def reminder_times(training: Training, schedule: ReminderSchedule) -> list[tuple[int, datetime]]:
    """(days before, when in UTC) of each reminder of the session worth sending."""
    zone = ZoneInfo(training.timezone)
    starts = as_utc(training.starts_at)
    local_day = starts.astimezone(zone).date()
    times = []
    for days in sorted(set(schedule.days_before), reverse=True):
        at = datetime.combine(local_day - timedelta(days=days), time(schedule.hour), tzinfo=zone)
        if as_utc(at) <= starts - LAST_USEFUL_REMINDER:
            times.append((days, as_utc(at)))
    return times


def _reminder_rows(
    training: Training, enrolment: Enrolment, phone: str, now: datetime, schedule: ReminderSchedule
) -> list[dict[str, Any]]:
    enrolled = as_utc(enrolment.created_at)
    return [
        _row(
            f"reminder:{training.code}:{_iso(training.starts_at)}:{days}:{phone}",
            "reminder",
            training,
            enrolment.farmer_id,
            phone,
            due_at=at,
            now=now,
            extra={"days_before": days},
        )
        for days, at in reminder_times(training, schedule)
        if at >= enrolled and at >= now - LATE_REMINDER
    ]


def _moved_row(training: Training, enrolment: Enrolment, phone: str, now: datetime) -> dict[str, Any]:
    key = f"training_moved:{training.code}:{_iso(training.starts_at)}:{training.venue}:{phone}"[:200]
    return _row(key, "training_moved", training, enrolment.farmer_id, phone, due_at=now, now=now)


def _cancelled_row(training: Training, enrolment: Enrolment, phone: str, now: datetime) -> dict[str, Any]:
    key = f"training_cancelled:{training.code}:{_iso(training.starts_at)}:{phone}"
    return _row(key, "training_cancelled", training, enrolment.farmer_id, phone, due_at=now, now=now)


def _row(
    key: str,
    kind: str,
    training: Training,
    farmer_id: int,
    phone: str,
    *,
    due_at: datetime,
    now: datetime,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    facts = {**training_facts(training), **(extra or {})}
    return {
        "idempotency_key": key,
        "kind": kind,
        "priority": PRIORITIES[kind],
        "farmer_id": farmer_id,
        "phone": phone,
        "subject": training.code,
        "variables": json.dumps(facts, sort_keys=True),
        "due_at": due_at,
        "status": "scheduled",
        "created_at": now,
    }
