"""The inbound work list of the production mode: the webhook gateway (bot/gateway) stores each
message with its phone's next sequence number and its queue partition, and marks it published;
the Rasa workers (bot/worker) claim, finish or reschedule them (bot/messaging/inbound_claims.py).
Functions take the caller's Session; the caller owns the unit of work.

A message is *done* when its status is processed or failed; its replies are recorded in the same
unit of work that marks it so (bot/messaging/turns.py). The database is the source of truth for a
farmer's order: a worker handles the earlier messages of the phone that are not done first,
whatever order the broker delivered them in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Integer, String, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert, Update
from sqlalchemy.sql.selectable import TableValuedAlias
from sqlalchemy.types import TypeEngine

from bot.messaging.inbound import Inbound, inbound_row, store_inbound
from bot.messaging.schema import FarmerSequence, InboundMessage
from bot.timeutil import utcnow

DONE = ("processed", "failed")
PENDING = ("received", "processing")


@dataclass(frozen=True)
class Stored:
    """A new message in its phone's stream."""

    message_sid: str
    farmer_seq: int
    partition: int


def next_seq(session: Session, phone: str) -> int:
    """The phone's next sequence number, taken atomically: the phone's row stays locked until the
    caller's unit of work ends, so numbers follow the order the messages were committed in."""
    table = FarmerSequence.__table__
    bump = {"last_seq": table.c.last_seq + 1}
    if session.get_bind().dialect.name == "postgresql":
        upsert = (
            postgresql.insert(table)
            .values(phone=phone, last_seq=1)
            .on_conflict_do_update(index_elements=[table.c.phone], set_=bump)
            .returning(table.c.last_seq)
        )
        return int(session.execute(upsert).scalar_one())
    # SQLite has one writer at a time: the upsert and the read cannot interleave with another's
    session.execute(
        sqlite.insert(table)
        .values(phone=phone, last_seq=1)
        .on_conflict_do_update(index_elements=[table.c.phone], set_=bump)
    )
    return int(session.execute(select(table.c.last_seq).where(table.c.phone == phone)).scalar_one())


def store_in_sequence(session: Session, message: Inbound, partition: int) -> Stored | None:
    """Stores a new message with its sequence number; None when that MessageSid is stored
    already (a Twilio retry, or another gateway that got the same webhook: the unique MessageSid
    decides, and the loser takes no number)."""
    return store_all_in_sequence(session, [(message, partition)])[0]


def store_all_in_sequence(session: Session, arrivals: Sequence[tuple[Inbound, int]]) -> list[Stored | None]:
    """``store_in_sequence`` for several messages (each with its partition) in the caller's unit
    of work, numbered in the order given: a gateway stores the webhooks that came in while it was
    storing the ones before together (bot/messaging/intake.py). On PostgreSQL three statements
    whatever their number, each built once (a statement with a row of values per message was
    compiled again for every burst: two thirds of the store's CPU): the insert (a MessageSid
    stored already, or earlier in the list, is None), one number per phone and message
    (``_take_numbers``), and the numbers written."""
    if session.get_bind().dialect.name != "postgresql":
        return [_store_one(session, message, partition) for message, partition in arrivals]
    firsts: dict[str, tuple[Inbound, int]] = {}
    for message, partition in arrivals:
        firsts.setdefault(message.message_sid, (message, partition))
    rows = [inbound_row(message, queue_partition=partition) for message, partition in firsts.values()]
    inserted = set(session.execute(_insert_statement(), rows).scalars())
    new = [(sid, message.phone, partition) for sid, (message, partition) in firsts.items() if sid in inserted]
    if not new:
        return [None] * len(arrivals)
    following = _take_numbers(session, Counter(phone for _, phone, _ in new))
    stored = {sid: Stored(sid, next(following[phone]), partition) for sid, phone, partition in new}
    numbers = {"sids": list(stored), "seqs": [each.farmer_seq for each in stored.values()]}
    session.execute(_number_statement(), numbers)
    return [stored.pop(message.message_sid, None) for message, _ in arrivals]


@lru_cache(maxsize=1)
def _insert_statement() -> Insert:
    """Run with a list of rows: psycopg2 sends them as one INSERT … VALUES of all of them."""
    table = InboundMessage.__table__
    return (
        postgresql.insert(table)
        .on_conflict_do_nothing(index_elements=[table.c.message_sid])
        .returning(table.c.message_sid)
    )


def _unnested(name: str, **columns: type[TypeEngine]) -> TableValuedAlias:
    """Rows made of arrays, one a column, each bound under the column's name and an "s"
    (``unnest(:phones, :counts) AS taken(phone, count)``): statements of one shape for any count."""
    arrays = [bindparam(f"{column}s", type_=ARRAY(kind)) for column, kind in columns.items()]
    return func.unnest(*arrays).table_valued(*columns).render_derived(name=name)


@lru_cache(maxsize=1)
def _numbers_statement() -> Insert:
    """The phones' numbers taken, from two arrays (``phones``, ``counts``), in phone order."""
    table = FarmerSequence.__table__
    taken = _unnested("taken", phone=String, count=Integer)
    upsert = postgresql.insert(table).from_select(
        ["phone", "last_seq"], select(taken.c.phone, taken.c.count).order_by(taken.c.phone)
    )
    return upsert.on_conflict_do_update(
        index_elements=[table.c.phone], set_={"last_seq": table.c.last_seq + upsert.excluded.last_seq}
    ).returning(table.c.phone, table.c.last_seq)


@lru_cache(maxsize=1)
def _number_statement() -> Update:
    """The numbers written, from two arrays (``sids``, ``seqs``): one statement of one shape."""
    table = InboundMessage.__table__
    numbered = _unnested("numbered", sid=String, seq=Integer)
    return update(table).where(table.c.message_sid == numbered.c.sid).values(farmer_seq=numbered.c.seq)


def _take_numbers(session: Session, counts: Counter[str]) -> dict[str, Iterator[int]]:
    """``counts[phone]`` new numbers for each phone in one upsert, as ``next_seq`` takes one: the
    phones' rows stay locked until the caller's unit of work ends. The rows are taken in phone
    order, so two gateways storing bursts with phones in common never wait on each other in a
    circle."""
    phones = sorted(counts)
    taken = {"phones": phones, "counts": [counts[phone] for phone in phones]}
    return {
        phone: iter(range(last - counts[phone] + 1, last + 1))
        for phone, last in session.execute(_numbers_statement(), taken).all()
    }


def _store_one(session: Session, message: Inbound, partition: int) -> Stored | None:
    """SQLite's way (one writer at a time, no RETURNING in SQLAlchemy 1.4), a message at a time."""
    if not store_inbound(session, message, queue_partition=partition):
        return None
    seq = next_seq(session, message.phone)
    session.execute(
        update(InboundMessage).where(InboundMessage.message_sid == message.message_sid).values(farmer_seq=seq)
    )
    return Stored(message.message_sid, seq, partition)


@lru_cache(maxsize=1)
def _published_statement() -> Update:
    """Built once, run with the MessageSids (an expanding IN list) and the time."""
    table = InboundMessage.__table__
    return (
        update(table)
        .where(table.c.message_sid.in_(bindparam("sids", expanding=True)), table.c.published_at.is_(None))
        .values(published_at=bindparam("at"))
    )


def mark_published(session: Session, message_sids: Collection[str]) -> None:
    """The broker confirmed these messages (publisher confirms): one statement for all of them,
    as a gateway records the confirms of a burst together (bot/messaging/intake.py)."""
    if not message_sids:
        return
    session.execute(_published_statement(), {"sids": sorted(message_sids), "at": utcnow()})
