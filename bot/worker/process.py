"""A running worker: its heartbeat (partition leases), its consumers, its recovery loop and its
small HTTP server (liveness, readiness, metrics), started and stopped together."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from rasa.core.lock_store import RedisLockStore

from bot.logs import failure
from bot.messaging import inbound_claims, partitions
from bot.messaging.broker import BrokerSettings
from bot.messaging.inbound_claims import Grace
from bot.messaging.work import in_session
from bot.timeutil import utcnow
from bot.worker import metrics, takeover
from bot.worker.config import WorkerSettings
from bot.worker.consumers import Consumers
from bot.worker.handler import Handler
from bot.worker.rasa_turns import Assistant

logger = logging.getLogger(__name__)


class Worker:
    def __init__(
        self,
        settings: WorkerSettings,
        broker: BrokerSettings,
        assistant: Assistant,
        grace: Grace = Grace(),
        lock_store: RedisLockStore | None = None,
        model_name: str = "",
    ):
        self.settings = settings
        self.model_name = model_name  # the model file it loaded, shown on /readyz (a rollout checks it)
        self.broker = broker
        self.grace = grace
        self.handler = Handler(settings, assistant, lock_store)
        self.consumers = Consumers(broker, self.handler, f"worker {settings.worker_id}")
        self.tasks: list[asyncio.Task] = []
        self.last_heartbeat: datetime | None = None  # when the database last renewed our leases
        self.runner: web.AppRunner | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self, http: bool = True) -> None:
        await self.consumers.start()
        loop = asyncio.get_running_loop()
        self.tasks = [loop.create_task(self._heartbeats()), loop.create_task(self._recovery())]
        if http:
            await self._serve_http()
        logger.info("worker %s started", self.settings.worker_id)

    async def stop(self) -> None:
        """Stops taking work, finishes the messages in hand, gives the partitions back."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.consumers.stop()
        try:
            await in_session(inbound_claims.release_claims, self.settings.worker_id)
            await in_session(partitions.retire, self.settings.worker_id)
        except Exception as exc:  # its leases and claims expire by themselves
            logger.warning("worker %s not retired: %s", self.settings.worker_id, failure(exc))
        if self.runner is not None:
            await self.runner.cleanup()
        logger.info("worker %s stopped", self.settings.worker_id)

    # -- the loops ----------------------------------------------------------------------------
    async def beat(self) -> None:
        """One heartbeat: leases renewed or taken, consumers to match, surplus given back."""
        settings = self.settings
        assignment = await in_session(
            partitions.heartbeat, settings.worker_id, self.broker.partitions, settings.lease_seconds
        )
        released = await self.consumers.apply(assignment)
        if released:
            await in_session(partitions.release, settings.worker_id, released)
            logger.info(
                "partitions %s given back (share %d of %d workers)",
                released,
                assignment.share,
                assignment.live_workers,
            )
        self.last_heartbeat = utcnow()
        await self.consumers.measure()

    async def _heartbeats(self) -> None:
        while True:
            try:
                await self.beat()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database or the broker down: try again next beat
                logger.error("heartbeat failed: %s", failure(exc))
                logger.debug("heartbeat failed", exc_info=exc)
            await asyncio.sleep(self.settings.heartbeat_seconds)

    async def recover(self) -> int:
        """One round of recovery over the partitions held; returns how many messages it took."""
        held = self.consumers.held
        if not held:
            return 0
        sids, taken_over = await in_session(
            takeover.claim_due,
            self.settings.worker_id,
            held,
            self.settings.claim_seconds,
            self.grace,
            self.handler.started_at,
        )
        if not sids:
            return 0
        metrics.RECOVERED.inc(len(sids))
        logger.info("recovery: %d message(s) taken: %s", len(sids), ", ".join(sids))
        by_phone: dict[str, list[str]] = defaultdict(list)
        for sid in sids:
            work = await in_session(inbound_claims.work_item, sid)
            if work is not None:
                by_phone[work.message.phone].append(sid)
        await asyncio.gather(
            *(self._recover_phone(phone_sids, taken_over) for phone_sids in by_phone.values())
        )
        return len(sids)

    async def _recover_phone(self, sids: list[str], taken_over: dict[str, str]) -> None:
        for sid in sids:
            try:
                await self.handler.handle(sid, taken_over)
            except Exception as exc:
                logger.error("recovery of %s failed: %s", sid, failure(exc))
                return

    async def _recovery(self) -> None:
        while True:
            try:
                taken = await self.recover()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.error("recovery round failed: %s", failure(exc))
                logger.debug("recovery round failed", exc_info=exc)
                taken = 0
            await asyncio.sleep(0.2 if taken else self.settings.recovery_seconds)

    # -- health and metrics -------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        fresh = (
            self.last_heartbeat is not None
            and (utcnow() - self.last_heartbeat).total_seconds() < 3 * self.settings.heartbeat_seconds
        )
        return fresh and self.consumers.connected

    async def _serve_http(self) -> None:
        async def healthz(request: web.Request) -> web.Response:
            return web.json_response({"status": "ok"})

        async def readyz(request: web.Request) -> web.Response:
            body = {
                "worker": self.settings.worker_id,
                "database": "ok" if self.last_heartbeat else "unavailable",
                "broker": "ok" if self.consumers.connected else "unavailable",
                "partitions": list(self.consumers.held),
                "model": self.model_name,
            }
            return web.json_response(body, status=200 if self.ready else 503)

        async def prometheus(request: web.Request) -> web.Response:
            response = web.Response(body=generate_latest())
            response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
            return response

        app = web.Application()
        app.add_routes(
            [web.get("/healthz", healthz), web.get("/readyz", readyz), web.get("/metrics", prometheus)]
        )
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, self.settings.http_host, self.settings.http_port).start()
