"""Rasa turns off the web server's event loop, so a webhook is acknowledged at once under load.

Rasa runs model inference (spaCy, DIET, TED) synchronously inside its async message handler. On
Sanic's loop that blocks every other request, including Twilio's next webhook, for the whole
inference. ``TurnThreads`` runs each turn on a small pool of threads, each with an event loop of its
own; TensorFlow and numpy release the GIL while they compute, so the web server's loop keeps
answering. The pool is small (``TWILIO_TURN_THREADS``, one by default) so the webhook does not
queue behind many CPU-bound threads for the GIL; further turns wait in the pool's queue, as they
would on Rasa's loop.

What a turn touches must not be bound to the server's loop. That holds for Rasa 3.6 with our
endpoints: the SQL tracker store is synchronous, the in-memory lock store only polls, and the
action endpoint opens an aiohttp session per call. An event broker that keeps an async connection
(Pika, Kafka) is bound to one loop: with one configured, set ``TWILIO_TURN_THREADS=0`` to run turns
on the server's loop as Rasa does.

Turns of one conversation never overlap: the channel holds a per-farmer lock around each turn.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class TurnThreads:
    """Runs coroutines to completion on worker threads that each keep one event loop."""

    def __init__(self, threads: int):
        self.threads = threads
        self._executor: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._loops: list[asyncio.AbstractEventLoop] = []
        self._guard = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.threads > 0

    async def run(self, make_coroutine: Callable[[], Awaitable[T]]) -> T:
        """Awaits ``make_coroutine()`` on a worker thread (or here, when threads are off)."""
        if not self.enabled:
            return await make_coroutine()
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="rasa-turn")
        future = self._executor.submit(self._run_in_thread, make_coroutine)
        return await asyncio.wrap_future(future)

    def _run_in_thread(self, make_coroutine: Callable[[], Awaitable[T]]) -> T:
        loop = getattr(self._local, "loop", None)
        if loop is None:
            loop = asyncio.new_event_loop()
            self._local.loop = loop
            with self._guard:
                self._loops.append(loop)
        return loop.run_until_complete(make_coroutine())

    def shutdown(self) -> None:
        """Waits for running turns, then closes the threads' loops."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        with self._guard:
            for loop in self._loops:
                if not loop.is_closed():
                    loop.close()
            self._loops.clear()
        self._local = threading.local()
