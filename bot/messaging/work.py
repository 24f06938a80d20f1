"""The messaging layer's own threads for blocking work, and one unit of work per call.

Code on Sanic's loop (the channels, the delivery service) runs database work here, so that a
burst of farmers never waits behind Rasa's (or anyone's) use of the loop's default executor:

    stored = await in_session(inbound.store_inbound, message)

runs ``inbound.store_inbound(session, message)`` on one of these threads inside one
``bot.db.session_scope()``: committed when it returns, rolled back when it raises.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.orm import Session

from bot.db import session_scope

P = ParamSpec("P")
T = TypeVar("T")

_POOL = ThreadPoolExecutor(
    max_workers=int(os.environ.get("TWILIO_DB_THREADS", "8") or 8),
    thread_name_prefix="messaging-db",
)


async def in_pool(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Runs blocking work (a file write, a unit of work) on the messaging threads."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_POOL, partial(function, *args, **kwargs))


def _run_in_session(step: Callable[[Session], T]) -> T:
    with session_scope() as session:
        return step(session)


async def in_session(function: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``function(session, *args, **kwargs)`` in one unit of work, on the messaging threads."""

    def step(session: Session) -> T:
        return function(session, *args, **kwargs)

    return await in_pool(_run_in_session, step)
