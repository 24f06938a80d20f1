"""The handover queue: requests for a person, the oldest first, with when staff first replied;
assigning them and moving them between open, in progress and closed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.console.auth import StaffUser
from bot.console.queries import audit, users
from bot.console.queries.replies import first_replies
from bot.console.vocabulary import ROLES
from bot.records import requests
from bot.records.farmers import farmers_by_id
from bot.records.schema import Farmer, HumanRequest
from bot.records.vocabulary import PENDING_REQUEST_STATUSES, REQUEST_STATUSES

PENDING = "pendientes"  # the queue's default filter: open and in progress
# Roles whose accounts a request can be assigned to: those who reply to farmers.
ASSIGNABLE_ROLES = tuple(code for code, role in ROLES.items() if "reply" in role.permissions)


@dataclass
class QueuePage:
    rows: list[HumanRequest]
    farmers: dict[int, Farmer]
    first_reply: dict[int, datetime]  # request id -> first staff reply (absent: none yet)
    staff: list[str]  # whom a request can be assigned to
    status: str  # the filter: "pendientes", a request status, or anything else for all
    mine: bool


def _statuses(status: str) -> tuple[str, ...] | None:
    if status == PENDING:
        return PENDING_REQUEST_STATUSES
    if status in REQUEST_STATUSES:
        return (status,)
    return None


def staff_usernames(session: Session) -> list[str]:
    return users.active_usernames(session, ASSIGNABLE_ROLES)


def queue_page(session: Session, actor: StaffUser, status: str, mine: bool) -> QueuePage:
    """The requests in the chosen status (only the actor's with ``mine``); audited."""
    rows = requests.queue(session, _statuses(status), assigned_to=actor.username if mine else None)
    page = QueuePage(
        rows=rows,
        farmers=farmers_by_id(session, [r.farmer_id for r in rows]),
        first_reply=first_replies(session, [r.id for r in rows]),
        staff=staff_usernames(session),
        status=status,
        mine=mine,
    )
    audit.record(session, actor, "view_queue", detail=f"{len(rows)} solicitudes")
    return page


def find_request(session: Session, request_id: int) -> HumanRequest | None:
    return requests.request_by_id(session, request_id)


def update_request(request: HumanRequest, *, assigned_to: str | None, status: str) -> None:
    """Staff's choice of who has the request and its status."""
    requests.assign(request, assigned_to)
    requests.move_to(request, status)
