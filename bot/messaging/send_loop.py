"""The sender process of production mode: sends the outbox continuously (any number at once).

Any number of these processes may run, on any number of machines.

    python -m bot.messaging.send_loop

Each round claims due entries and sends them through the same claim / send / record path as the
embedded outbox worker (bot/messaging/dispatch.py): claims are leases taken with ``FOR UPDATE
SKIP LOCKED`` on PostgreSQL, one entry per phone at a time (a farmer's messages in order), opt-out
re-checked at send time, Retry-After obeyed by pausing that sender here, an uncertain send looked
up in Twilio's list before any retry. Between rounds it waits ``SENDER_POLL_INTERVAL`` seconds,
or less: on PostgreSQL it LISTENs on ``outbox_due``, which ``outbox.notify_due`` raises when the
unit of work that queued replies commits.

SIGTERM (or SIGINT) stops it gracefully: the sends in flight finish and are recorded, the claims
not yet tried are given back for another sender, then it exits. Liveness ``/healthz``, readiness
``/readyz`` and Prometheus ``/metrics`` are served on ``SENDER_HEALTH_HOST``:``SENDER_HEALTH_PORT``
(bot/messaging/sender_health.py).

Settings (environment; defaults in brackets): the Twilio settings of the channels (TWILIO_*,
bot/messaging/config.py: account, token, senders, TWILIO_API_BASE for the stand-in),
DATABASE_URL, SENDER_POLL_INTERVAL [0.2] seconds, SENDER_BATCH [50] entries claimed at once,
SENDER_CONCURRENCY [4] sends at once (to different phones), SENDER_HEALTH_HOST [127.0.0.1],
SENDER_HEALTH_PORT [9102], SENDER_MEASURE_INTERVAL [5] seconds between outbox depth readings.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from aiohttp import web

from bot.config import settings as program_settings
from bot.db import engine
from bot.heap import freeze_startup_objects
from bot.logs import configure_process, failure
from bot.messaging import credentials, dispatch, outbox
from bot.messaging.config import TwilioSettings
from bot.messaging.sender import TwilioSender
from bot.messaging.sender_health import Health, SenderMetrics, health_app
from bot.messaging.work import in_session

logger = logging.getLogger("bot.messaging.send_loop")


@dataclass(frozen=True)
class LoopOptions:
    poll_interval: float = 0.2
    batch: int = 50
    concurrency: int = 4
    health_host: str = "127.0.0.1"
    health_port: int = 9102
    measure_interval: float = 5.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LoopOptions:
        env = os.environ if environ is None else environ

        def value(name: str, default: Any, kind: Callable[[str], Any]) -> Any:
            raw = env.get(name, "").strip()
            return kind(raw) if raw else default

        return cls(
            poll_interval=value("SENDER_POLL_INTERVAL", cls.poll_interval, float),
            batch=value("SENDER_BATCH", cls.batch, int),
            concurrency=value("SENDER_CONCURRENCY", cls.concurrency, int),
            health_host=value("SENDER_HEALTH_HOST", cls.health_host, str),
            health_port=value("SENDER_HEALTH_PORT", cls.health_port, int),
            measure_interval=value("SENDER_MEASURE_INTERVAL", cls.measure_interval, float),
        )


class DueListener:
    """PostgreSQL's LISTEN on ``outbox_due``, on a connection of its own watched by the event
    loop: each notification wakes the sender. Nothing on SQLite; reconnected when dropped."""

    def __init__(self, on_notify: Callable[[], None]):
        self.on_notify = on_notify
        self._connection: Any = None

    def ensure(self) -> None:
        if self._connection is not None:
            return
        database = engine()
        if database.dialect.name != "postgresql":
            return
        try:
            args, kwargs = database.dialect.create_connect_args(database.url)
            connection = database.dialect.dbapi.connect(*args, **kwargs)
            connection.autocommit = True
            connection.cursor().execute(f"LISTEN {outbox.NOTIFY_CHANNEL}")
            asyncio.get_running_loop().add_reader(connection.fileno(), self._readable)
        except Exception as exc:  # the loop's poll still finds the entries
            logger.warning("LISTEN %s unavailable: %s", outbox.NOTIFY_CHANNEL, failure(exc))
            return
        self._connection = connection

    def _readable(self) -> None:
        try:
            self._connection.poll()
        except Exception:
            self.close()
            return
        if self._connection.notifies:
            self._connection.notifies.clear()
            self.on_notify()

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_reader(connection.fileno())
        with contextlib.suppress(Exception):
            connection.close()


class SendLoop:
    def __init__(self, sender: TwilioSender, options: LoopOptions, metrics: SenderMetrics | None = None):
        self.sender = sender
        self.options = options
        self.metrics = metrics or SenderMetrics()
        lease = dispatch.lease_seconds(sender.settings)
        self.health = Health(
            liveness_seconds=lease + 30, readiness_seconds=max(30.0, 10 * options.poll_interval)
        )
        self.listener = DueListener(self.wake)
        self._wake = asyncio.Event()
        self._stopping = False
        self._runner: web.AppRunner | None = None

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Graceful: the sends in flight finish, the rest of the claims are given back."""
        if not self._stopping:
            logger.info("sender stopping: finishing the sends in flight")
        self._stopping = self.health.stopping = True
        self._wake.set()

    def stopping(self) -> bool:
        return self._stopping

    def _sent(self, sent: dispatch.Sent) -> None:
        self.health.beat()
        self.metrics.observe(sent)

    async def serve(self) -> None:
        """Runs until ``stop``: the health port, the LISTEN, and the rounds."""
        self._runner = web.AppRunner(health_app(self.health, self.metrics), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.options.health_host, self.options.health_port).start()
        logger.info("sender: health and metrics on %s:%d", self.options.health_host, self.options.health_port)
        try:
            await self._rounds()
        finally:
            self.listener.close()
            await self.sender.close()
            await self._runner.cleanup()
            logger.info("sender stopped")

    async def _rounds(self) -> None:
        loop = asyncio.get_running_loop()
        next_measure = 0.0
        self.health.started = True
        while not self._stopping:
            self.health.beat()
            self.listener.ensure()
            try:
                await dispatch.run_round(
                    self.sender,
                    limit=self.options.batch,
                    concurrency=self.options.concurrency,
                    stopping=self.stopping,
                    on_sent=self._sent,
                )
                self.health.database_answered()
                if loop.time() >= next_measure:
                    self.metrics.measured(await in_session(outbox.depth))
                    next_measure = loop.time() + self.options.measure_interval
            except Exception as exc:  # a database outage must not end the process
                logger.error("sender round failed: %s", failure(exc))
                logger.debug("sender round failed", exc_info=exc)
            # run_round claimed until nothing was known to wait; what was queued since then
            # has set the wake-up already (NOTIFY), and what became due since is polled for
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.options.poll_interval)
            self._wake.clear()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--health-port", type=int, help="overrides SENDER_HEALTH_PORT")
    args = parser.parse_args(argv)
    if not credentials.fit_for_production({"DATABASE_URL": program_settings().database_url}):
        return 2
    configure_process("sender")
    settings = TwilioSettings.from_env()
    if not (settings.account_sid and settings.auth_token):
        print("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are needed to send.", file=sys.stderr)
        return 2
    for problem in settings.problems():
        logger.error("twilio misconfigured: %s", problem)
    options = LoopOptions.from_env()
    if args.health_port is not None:
        options = replace(options, health_port=args.health_port)

    async def run() -> None:
        send_loop = SendLoop(TwilioSender(settings), options)
        freeze_startup_objects()
        for signum in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(signum, send_loop.stop)
        await send_loop.serve()

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
