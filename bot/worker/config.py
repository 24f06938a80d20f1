"""A Rasa worker's settings, from the environment (deploy/production.env.example lists them with
their defaults)."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass


def _env(environ: Mapping[str, str], name: str, default: str) -> str:
    return environ.get(name, "").strip() or default


@dataclass(frozen=True)
class WorkerSettings:
    worker_id: str  # WORKER_ID: unique among the running workers (default host-pid)
    tracker_url: str  # TRACKER_DATABASE_URL: Rasa's SQL tracker store (PostgreSQL in production)
    redis_url: str  # REDIS_URL: Rasa's lock store
    action_url: str  # ACTION_SERVER_URL: the action server's webhook
    action_token: str  # ACTION_SERVER_TOKEN: its shared secret
    http_host: str  # WORKER_HTTP_HOST / WORKER_HTTP_PORT: /healthz, /readyz, /metrics
    http_port: int
    turn_timeout: float = 60.0  # TWILIO_TURN_TIMEOUT: a turn that takes longer failed
    lease_seconds: float = 20.0  # WORKER_LEASE_SECONDS: a dead worker's partitions move after this
    heartbeat_seconds: float = 5.0  # WORKER_HEARTBEAT_SECONDS
    recovery_seconds: float = 5.0  # WORKER_RECOVERY_SECONDS: between rounds of the recovery loop
    retry_base_seconds: float = 5.0  # TURN_RETRY_BASE_SECONDS: 5 s, 10 s, 20 s ... after a failed turn
    retry_max_seconds: float = 120.0  # TURN_RETRY_MAX_SECONDS
    retry_max_hours: float = 24.0  # TURN_RETRY_MAX_HOURS: then the message is given up (failed)
    rate_limit_per_minute: int = 30  # TWILIO_RATE_LIMIT_PER_MINUTE, as the channels

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WorkerSettings:
        env = os.environ if environ is None else environ
        return cls(
            worker_id=_env(env, "WORKER_ID", f"{socket.gethostname()}-{os.getpid()}")[:80],
            tracker_url=_env(env, "TRACKER_DATABASE_URL", "postgresql://127.0.0.1:5432/pp_tracker"),
            redis_url=_env(env, "REDIS_URL", "redis://127.0.0.1:6379/1"),
            action_url=_env(env, "ACTION_SERVER_URL", "http://127.0.0.1:5055/webhook"),
            action_token=env.get("ACTION_SERVER_TOKEN", "").strip(),
            http_host=_env(env, "WORKER_HTTP_HOST", "127.0.0.1"),
            http_port=int(_env(env, "WORKER_HTTP_PORT", "9111")),
            turn_timeout=float(_env(env, "TWILIO_TURN_TIMEOUT", "60")),
            lease_seconds=float(_env(env, "WORKER_LEASE_SECONDS", "20")),
            heartbeat_seconds=float(_env(env, "WORKER_HEARTBEAT_SECONDS", "5")),
            recovery_seconds=float(_env(env, "WORKER_RECOVERY_SECONDS", "5")),
            retry_base_seconds=float(_env(env, "TURN_RETRY_BASE_SECONDS", "5")),
            retry_max_seconds=float(_env(env, "TURN_RETRY_MAX_SECONDS", "120")),
            retry_max_hours=float(_env(env, "TURN_RETRY_MAX_HOURS", "24")),
            rate_limit_per_minute=int(_env(env, "TWILIO_RATE_LIMIT_PER_MINUTE", "30")),
        )

    @property
    def claim_seconds(self) -> float:
        """How long a turn's claim holds: longer than any turn may take."""
        return self.turn_timeout + 30

    def retry_in(self, attempts: int) -> float:
        return min(self.retry_max_seconds, self.retry_base_seconds * 2 ** max(attempts - 1, 0))
