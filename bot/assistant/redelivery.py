"""A message delivered again is answered with its first reply, and changes nothing again.

The same message can reach the action server twice: the production worker retries a turn that
failed after the action had run (the worker died before Rasa saved the tracker, or Rasa logged a
failed call and the turn was taken back), and a channel may be handed a message twice. So a turn
that changed the records (a check-code attempt or lock, a seat taken or given back, a request for
a person, a consent given or revoked, a PIN chosen, a payment view logged) records its whole
reply under the message's id, in the same unit of work as the changes
(bot/records/handled_messages.py). When that message comes again, the recorded reply is given
as it was, options and slots included, and no handler runs: every side effect happens once,
whichever it is, and the farmer reads the same answer.

A turn that only read is not recorded: run again, it changes nothing. A message is keyed by its
conversation and its id (Twilio's MessageSid, or the uuid Rasa gives a REST or shell message);
a turn without an id is not covered. One of our actions runs per message (data/rules: each
intent, one action), so an id names one reply.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

from bot.assistant.turn import Context, Reply, Turn
from bot.db import session_scope
from bot.logs import failure
from bot.records.handled_messages import fits, record_reply, stored_reply

log = logging.getLogger(__name__)


class HandledElsewhere(Exception):
    """Another process recorded the same message while this turn ran, and committed first: this
    turn's changes must be rolled back, and that reply given."""


def _key(turn: Turn) -> tuple[str, str] | None:
    if not turn.message_id or not fits(turn.conversation_id, turn.message_id):
        return None
    return turn.conversation_id, turn.message_id


def earlier_reply(session: Session, turn: Turn) -> Reply | None:
    """The reply this message got when it was handled before, or None."""
    key = _key(turn)
    record = stored_reply(session, *key) if key else None
    return Reply.from_record(record) if record is not None else None


def remember(ctx: Context, reply: Reply, wrote: Callable[[], bool]) -> None:
    """Records the reply of a turn that changed the records (``wrote``: bot.db.watch_writes)."""
    key = _key(ctx.turn)
    if key is None or not wrote():
        return
    if not record_reply(ctx.session, *key, ctx.turn.phone, reply.to_record()):
        raise HandledElsewhere("the same message was handled at the same moment")


def reply_given(turn: Turn) -> Reply | None:
    """After a turn failed: the reply another process gave the same message, if one did (its
    own unit of work, the failed one being rolled back); None when none did or it cannot tell."""
    if _key(turn) is None:
        return None
    try:
        with session_scope() as session:
            return earlier_reply(session, turn)
    except Exception as exc:
        log.warning("could not look for an earlier reply: %s", failure(exc))
        return None
