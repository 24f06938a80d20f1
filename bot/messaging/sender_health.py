"""What a sender process shows operations (bot/messaging/send_loop.py): Prometheus metrics, and
liveness and readiness on a small HTTP port.

    GET /healthz   200 while the loop goes round (a beat within ``liveness_seconds``), else 503
    GET /readyz    200 while it can send: started, not stopping, the database answered lately
    GET /metrics   Prometheus text

Metrics (one registry per process):
    sender_sends_total{medium}                  messages Twilio accepted (found by a lookup too)
    sender_sends_failed_total{error_code}       failed tries, by Twilio's error code; "transport"
                                                when no answer came, "uncertain" when it was lost
    sender_skipped_opt_out_total                not sent: the number opted out after queueing
    sender_reconciled_total{found}              uncertain sends looked up in Twilio's list
    sender_deferred_total                       put back untried: the sender waits out Retry-After
    outbox_depth                                entries not done
    outbox_oldest_due_age_seconds               how long the oldest due entry has waited
"""

from __future__ import annotations

import time

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest

from bot.messaging.dispatch import Outcome, Sent
from bot.messaging.outbox import OutboxDepth

FAILED = frozenset({Outcome.RETRY, Outcome.UNCERTAIN, Outcome.REFUSED, Outcome.GAVE_UP})


class SenderMetrics:
    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        r = self.registry

        def counter(name: str, documentation: str, *labels: str) -> Counter:
            return Counter(name, documentation, labels, registry=r)

        self.sends = counter("sender_sends", "Messages Twilio accepted, by medium.", "medium")
        self.failed = counter(
            "sender_sends_failed",
            "Failed tries by Twilio error code (transport: no answer; uncertain: the answer was lost).",
            "error_code",
        )
        self.skipped = counter(
            "sender_skipped_opt_out", "Not sent: the number opted out after it was queued."
        )
        self.reconciled = counter(
            "sender_reconciled",
            "Uncertain sends looked up in Twilio's list, by whether Twilio had them.",
            "found",
        )
        self.deferred = counter("sender_deferred", "Put back untried: the sender waits out a Retry-After.")
        self.depth = Gauge("outbox_depth", "Outbox entries not done yet.", registry=r)
        self.oldest_due = Gauge(
            "outbox_oldest_due_age_seconds",
            "How long the oldest due outbox entry has waited past its time.",
            registry=r,
        )

    def observe(self, sent: Sent) -> None:
        outcome = sent.outcome
        if outcome in (Outcome.SENT, Outcome.RECONCILED):
            self.sends.labels(medium=sent.item.medium).inc()
        if sent.found_at_twilio is not None:
            self.reconciled.labels(found=str(sent.found_at_twilio).lower()).inc()
        if outcome is Outcome.SKIPPED_OPT_OUT:
            self.skipped.inc()
        elif outcome is Outcome.DEFERRED:
            self.deferred.inc()
        elif outcome in FAILED:
            code = "uncertain" if outcome is Outcome.UNCERTAIN else sent.error_code or "transport"
            self.failed.labels(error_code=code).inc()

    def measured(self, depth: OutboxDepth) -> None:
        self.depth.set(depth.pending)
        self.oldest_due.set(depth.oldest_due_seconds)


class Health:
    """The loop's beats and the database's last answer, read by the HTTP endpoints."""

    def __init__(self, liveness_seconds: float, readiness_seconds: float):
        self.liveness_seconds = liveness_seconds
        self.readiness_seconds = readiness_seconds
        self.started = False
        self.stopping = False
        self._beat = time.monotonic()
        self._database_ok: float | None = None

    def beat(self) -> None:
        self._beat = time.monotonic()

    def database_answered(self) -> None:
        self._database_ok = time.monotonic()

    def alive(self) -> bool:
        return time.monotonic() - self._beat < self.liveness_seconds

    def ready(self) -> bool:
        answered = self._database_ok
        return (
            self.started
            and not self.stopping
            and answered is not None
            and time.monotonic() - answered < self.readiness_seconds
        )


def health_app(health: Health, metrics: SenderMetrics) -> web.Application:
    def answer(ok: bool) -> web.Response:
        return web.json_response({"status": "ok" if ok else "unavailable"}, status=200 if ok else 503)

    async def healthz(_request: web.Request) -> web.Response:
        return answer(health.alive())

    async def readyz(_request: web.Request) -> web.Response:
        return answer(health.ready())

    async def metrics_text(_request: web.Request) -> web.Response:
        response = web.Response(body=generate_latest(metrics.registry))
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_text)
    return app
