"""Upcoming trainings and enrolments. Seats are taken with one conditional UPDATE, so two farmers
asking for the last seat at once cannot both get it, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from bot.records.schema import Enrolment, Training
from bot.text import plain
from bot.timeutil import utcnow

NEAR_KM = 150  # a location pin: sessions within this distance count as near


@dataclass(frozen=True)
class Place:
    state: str | None = None
    municipality: str | None = None
    latitude: float | None = None
    longitude: float | None = None


class Match(Enum):
    """How a search for trainings on a subject was answered."""

    NEAR = "near"  # on the subject, in or near the place
    FARTHER = "farther"  # on the subject, but only farther away
    OTHER_SUBJECTS = "other_subjects"  # nothing on the subject: other trainings near the place
    NONE = "none"  # nothing at all near the place


@dataclass(frozen=True)
class Found:
    trainings: list[Training]
    match: Match


def find_trainings(
    session: Session,
    place: Place,
    topic: str | None,
    words: list[str],
    limit: int = 3,
    named_subject: bool = False,
) -> Found:
    """Trainings on a subject near a place, never a wrong "no": the subject is the words of the
    question found in a session's title ("riego", "mujeres"), else its topic. When nothing on
    the subject is near, the same subject farther away; when nothing on it is scheduled, other
    trainings near the place."""
    upcoming = _upcoming(session, None)
    by_title = [t for t in upcoming if any(word in _title_words(t) for word in words)]
    if by_title:
        on_subject = by_title
    elif topic:
        on_subject = [t for t in upcoming if t.topic == topic]
    else:
        on_subject = [] if named_subject else upcoming  # a subject no session has: say so
    near = _in_place(on_subject, place, limit)
    if near:
        return Found(near, Match.NEAR)
    if on_subject and (by_title or topic):
        return Found(on_subject[:limit], Match.FARTHER)
    nearby = _in_place(upcoming, place, limit)
    return Found(nearby, Match.OTHER_SUBJECTS if nearby and (by_title or topic or words) else Match.NONE)


def _title_words(training: Training) -> set[str]:
    return set(plain(training.title).replace(",", " ").replace("(", " ").replace(")", " ").split())


def _upcoming(session: Session, topic: str | None) -> list[Training]:
    query = select(Training).where(Training.starts_at > utcnow(), Training.cancelled.is_(False))
    if topic:
        query = query.where(Training.topic == topic)
    return list(session.execute(query.order_by(Training.starts_at, Training.id)).scalars())


def _in_place(trainings: list[Training], place: Place, limit: int) -> list[Training]:
    """Those in the place: within 50 km bands of a location, else the municipality, else the
    state; none when the place is known but nothing is there."""
    if place.latitude is not None and place.longitude is not None:
        near = [t for t in trainings if _km(place, t) <= NEAR_KM]
        return sorted(near, key=lambda t: (_km(place, t) // 50, t.starts_at))[:limit]
    if place.municipality:
        local = [t for t in trainings if t.municipality == place.municipality]
        if local:
            return local[:limit]
    if place.state:
        return [t for t in trainings if t.state == place.state][:limit]
    return [] if place.municipality else trainings[:limit]


def _nearest(trainings: list[Training], place: Place, limit: int) -> list[Training]:
    if place.latitude is not None and place.longitude is not None:
        return sorted(trainings, key=lambda t: (_km(place, t) // 50, t.starts_at))[:limit]
    return _in_place(trainings, place, limit) or ([] if place.state else trainings[:limit])


def _km(place: Place, training: Training) -> float:
    if (
        training.latitude is None
        or training.longitude is None
        or place.latitude is None
        or place.longitude is None
    ):
        return math.inf
    lat1, lon1 = math.radians(place.latitude), math.radians(place.longitude)
    lat2, lon2 = math.radians(float(training.latitude)), math.radians(float(training.longitude))
    a = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 6371 * 2 * math.asin(math.sqrt(a))


class EnrolResult(Enum):
    ENROLLED = "enrolled"
    ALREADY = "already"
    FULL = "full"
    UNAVAILABLE = "unavailable"


def enrol(session: Session, training_id: int, farmer_id: int) -> EnrolResult:
    """Takes a seat for the farmer. Call inside a unit of work; it commits with it."""
    training = session.get(Training, training_id)
    if training is None or training.cancelled or training.starts_at_utc() <= utcnow():
        return EnrolResult.UNAVAILABLE
    existing = _enrolment(session, training_id, farmer_id)
    if existing is not None and existing.status == "active":
        return EnrolResult.ALREADY
    taken = session.execute(
        update(Training)
        .where(Training.id == training_id, Training.seats_taken < Training.capacity)
        .values(seats_taken=Training.seats_taken + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not taken:
        return EnrolResult.FULL
    told = {"told_starts_at": training.starts_at, "told_venue": training.venue}  # in the confirmation
    if existing is not None:
        existing.status, existing.cancelled_at, existing.confirmed_at = "active", None, None
        existing.told_starts_at, existing.told_venue = told["told_starts_at"], told["told_venue"]
    else:
        try:
            with session.begin_nested():
                session.add(Enrolment(training_id=training_id, farmer_id=farmer_id, **told))
        except IntegrityError:  # the same farmer enrolled from another phone at the same moment
            _release_seat(session, training_id)
            return EnrolResult.ALREADY
    return EnrolResult.ENROLLED


def cancel_enrolment(session: Session, training_id: int, farmer_id: int) -> bool:
    enrolment = _enrolment(session, training_id, farmer_id)
    if enrolment is None or enrolment.status != "active":
        return False
    enrolment.status, enrolment.cancelled_at = "cancelled", utcnow()
    _release_seat(session, training_id)
    return True


def active_enrolments(session: Session, farmer_id: int) -> list[Enrolment]:
    query = (
        select(Enrolment)
        .join(Training, Training.id == Enrolment.training_id)
        .where(
            Enrolment.farmer_id == farmer_id,
            Enrolment.status == "active",
            Training.starts_at > utcnow(),
        )
        .order_by(Training.starts_at)
    )
    return list(session.execute(query).scalars())


def _enrolment(session: Session, training_id: int, farmer_id: int) -> Enrolment | None:
    query = select(Enrolment).where(Enrolment.training_id == training_id, Enrolment.farmer_id == farmer_id)
    return session.execute(query).scalars().first()


def _release_seat(session: Session, training_id: int) -> None:
    session.execute(
        update(Training)
        .where(Training.id == training_id, Training.seats_taken > 0)
        .values(seats_taken=Training.seats_taken - 1)
        .execution_options(synchronize_session=False)
    )


# --- what staff read ----------------------------------------------------------------------------


def count_trainings(session: Session, starting_after: datetime | None = None) -> int:
    query = select(func.count(Training.id))
    if starting_after is not None:
        query = query.where(Training.starts_at >= starting_after)
    return session.execute(query).scalar() or 0


def trainings_from(
    session: Session, starting_after: datetime | None = None, *, limit: int, offset: int = 0
) -> list[Training]:
    """Trainings from a moment on, the soonest first; or all of them, the latest first."""
    query = select(Training)
    if starting_after is not None:
        query = query.where(Training.starts_at >= starting_after).order_by(Training.starts_at)
    else:
        query = query.order_by(Training.starts_at.desc())
    return list(session.execute(query.limit(limit).offset(offset)).scalars())


def training_by_id(session: Session, training_id: int) -> Training | None:
    return session.get(Training, training_id)


def enrolments_in(session: Session, training_id: int) -> list[Enrolment]:
    """A training's enrolments, active first, with their farmer loaded."""
    return list(
        session.execute(
            select(Enrolment)
            .options(selectinload(Enrolment.farmer))
            .where(Enrolment.training_id == training_id)
            .order_by(Enrolment.status, Enrolment.created_at)
        ).scalars()
    )


def confirm_attendance(session: Session, training_id: int, farmer_id: int) -> Enrolment | None:
    """The farmer says they will go (their answer to a reminder): the active enrolment, marked
    confirmed; None when there is none (cancelled since, or never enrolled)."""
    enrolment = _enrolment(session, training_id, farmer_id)
    if enrolment is None or enrolment.status != "active" or enrolment.training.cancelled:
        return None
    enrolment.confirmed_at = enrolment.confirmed_at or utcnow()
    return enrolment
