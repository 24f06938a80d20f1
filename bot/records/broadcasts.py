"""Broadcasts (issue 14): a message an officer wrote for an audience, sent once an admin other
than its author approved it. Functions take the caller's Session; the caller owns the unit of
work. What the message says to each medium is the console's to show (bot/console/services/
broadcasts.py) and the assistant's to say (bot/assistant/notices.py).

- The audience is every farmer matching each filter given (state, municipality, a crop they
  grow, organisation, preferred medium), read when the notices are planned, after the approval.
- Broadcasts are a voluntary purpose: a notice is planned only for a phone whose latest answer
  to the news question is a yes that covers broadcasts (bot/records/news.py). The release checks
  again, with BAJA, consent and ARCO oppositions (bot/messaging/notices.py).
- One notice per phone (a shared phone hears it once, under the farmer with the lowest id), with
  the key ``broadcast:<id>:<phone>``: a second scheduler or a restart plans nothing twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from bot.records import news
from bot.records.notice_schema import Broadcast, Notice
from bot.records.notices import PRIORITIES, plan_rows
from bot.records.schema import Farmer, FarmerCrop, FarmerPhone, Organisation


class NotAllowed(Exception):
    """A decision the rules refuse (an author approving their own, a decided broadcast)."""


@dataclass(frozen=True)
class Audience:
    """Who a broadcast is for: each filter given narrows it; None is everyone."""

    state: str | None = None
    municipality: str | None = None
    product: str | None = None
    organisation_id: int | None = None
    medium: str | None = None

    def farmers_and_phones(self) -> Select:
        query = select(Farmer.id, FarmerPhone.phone).join(FarmerPhone, FarmerPhone.farmer_id == Farmer.id)
        if self.state:
            query = query.where(Farmer.state == self.state)
        if self.municipality:
            query = query.where(Farmer.municipality == self.municipality)
        if self.organisation_id:
            query = query.where(Farmer.organisation_id == self.organisation_id)
        if self.medium:
            query = query.where(Farmer.preferred_medium == self.medium)
        if self.product:
            growers = select(FarmerCrop.farmer_id).where(FarmerCrop.product == self.product)
            query = query.where(Farmer.id.in_(growers))
        return query


@dataclass(frozen=True)
class AudienceChoices:
    """What each filter can take, from the records as they are."""

    states: list[str]
    municipalities: list[tuple[str, str]]  # (state, municipality)
    products: list[str]
    organisations: list[tuple[int, str]]  # (id, name)


def audience_choices(session: Session) -> AudienceChoices:
    return AudienceChoices(
        states=list(session.execute(select(Farmer.state).distinct().order_by(Farmer.state)).scalars()),
        municipalities=[
            (state, municipality)
            for state, municipality in session.execute(
                select(Farmer.state, Farmer.municipality)
                .distinct()
                .order_by(Farmer.state, Farmer.municipality)
            )
        ],
        products=list(
            session.execute(select(FarmerCrop.product).distinct().order_by(FarmerCrop.product)).scalars()
        ),
        organisations=[
            (org_id, name)
            for org_id, name in session.execute(
                select(Organisation.id, Organisation.name).order_by(Organisation.name)
            )
        ],
    )


def organisation_name(session: Session, organisation_id: int) -> str | None:
    return session.execute(select(Organisation.name).where(Organisation.id == organisation_id)).scalar()


def organisation_names(session: Session, organisation_ids: list[int]) -> dict[int, str]:
    if not organisation_ids:
        return {}
    rows = session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(set(organisation_ids)))
    )
    return {org_id: name for org_id, name in rows}  # noqa: C416 - dict(result) would read it as a mapping


def audience_of(broadcast: Broadcast) -> Audience:
    return Audience(
        state=broadcast.state,
        municipality=broadcast.municipality,
        product=broadcast.product,
        organisation_id=broadcast.organisation_id,
        medium=broadcast.medium,
    )


@dataclass(frozen=True)
class AudienceCount:
    farmers: int
    phones: int  # distinct numbers: a shared phone counts once
    wanting: int  # of those, the numbers whose yes to news covers broadcasts


@dataclass(frozen=True)
class Reach:
    """Who an audience is, read once: each distinct phone with the lowest id of its farmers there,
    how many farmers, and the phones whose latest yes to news covers broadcasts."""

    phones: dict[str, int]
    farmers: int
    wanting: set[str]

    @property
    def count(self) -> AudienceCount:
        return AudienceCount(self.farmers, len(self.phones), len(self.wanting))


def reach_of(session: Session, audience: Audience) -> Reach:
    phones: dict[str, int] = {}
    farmers: set[int] = set()
    for farmer_id, phone in session.execute(audience.farmers_and_phones().order_by(Farmer.id)):
        phones.setdefault(phone, farmer_id)
        farmers.add(farmer_id)
    wanting = news.phones_wanting_news(session, sorted(phones), broadcasts=True)
    return Reach(phones, len(farmers), wanting)


def count_audience(session: Session, audience: Audience) -> AudienceCount:
    return reach_of(session, audience).count


def compose(session: Session, text: str, audience: Audience, author: str, now: datetime) -> Broadcast:
    broadcast = Broadcast(
        text=text,
        state=audience.state,
        municipality=audience.municipality,
        product=audience.product,
        organisation_id=audience.organisation_id,
        medium=audience.medium,
        status="pending",
        composed_by=author,
        composed_at=now,
    )
    session.add(broadcast)
    session.flush()
    return broadcast


def broadcast_by_id(session: Session, broadcast_id: int, *, for_update: bool = False) -> Broadcast | None:
    query = select(Broadcast).where(Broadcast.id == broadcast_id)
    return session.execute(query.with_for_update() if for_update else query).scalar_one_or_none()


def newest(session: Session, limit: int = 50) -> list[Broadcast]:
    query = select(Broadcast).order_by(Broadcast.composed_at.desc(), Broadcast.id.desc()).limit(limit)
    return list(session.execute(query).scalars())


def decide(
    session: Session, broadcast: Broadcast, approved: bool, who: str, now: datetime, note: str = ""
) -> None:
    """An admin's decision on a pending broadcast; never its author's (four eyes)."""
    if broadcast.status != "pending":
        raise NotAllowed("already decided")
    if who == broadcast.composed_by:
        raise NotAllowed("own broadcast")
    broadcast.status = "approved" if approved else "rejected"
    broadcast.decided_by, broadcast.decided_at = who, now
    broadcast.decision_note = None if approved else (note.strip() or None)
    session.flush()


def plan_broadcast_notices(session: Session, now: datetime) -> int:
    """Plans, due ``now``, the notices of each approved broadcast not planned yet (locked for this
    unit of work: another scheduler skips it); returns how many were new."""
    ready = session.execute(
        select(Broadcast)
        .where(Broadcast.status == "approved", Broadcast.planned_at.is_(None))
        .order_by(Broadcast.decided_at, Broadcast.id)
        .with_for_update(skip_locked=True)
    ).scalars()
    planned = 0
    for broadcast in list(ready):
        reach = reach_of(session, audience_of(broadcast))
        rows = [_row(broadcast, reach.phones[phone], phone, now) for phone in sorted(reach.wanting)]
        planned += plan_rows(session, rows)
        broadcast.planned_at, broadcast.planned = now, len(rows)
    return planned


def subject_of(broadcast_id: int) -> str:
    """A broadcast's notices' subject: "#12"."""
    return f"#{broadcast_id}"


def _row(broadcast: Broadcast, farmer_id: int, phone: str, now: datetime) -> dict[str, Any]:
    return {
        "idempotency_key": f"broadcast:{broadcast.id}:{phone}",
        "kind": "broadcast",
        "priority": PRIORITIES["broadcast"],
        "farmer_id": farmer_id,
        "phone": phone,
        "subject": subject_of(broadcast.id),
        "variables": json.dumps({"broadcast_id": broadcast.id, "text": broadcast.text}, ensure_ascii=False),
        "due_at": now,
        "status": "scheduled",
        "created_at": now,
    }


def notice_counts_by_subject(session: Session, subjects: list[str]) -> dict[str, dict[str, int]]:
    """For each broadcast's subject, how many of its notices are in each status (one query)."""
    found: dict[str, dict[str, int]] = {}
    if not subjects:
        return found
    rows = session.execute(
        select(Notice.subject, Notice.status, func.count(Notice.id))
        .where(Notice.kind == "broadcast", Notice.subject.in_(subjects))
        .group_by(Notice.subject, Notice.status)
    )
    for subject, status, n in rows:
        found.setdefault(subject, {})[status] = n
    return found
