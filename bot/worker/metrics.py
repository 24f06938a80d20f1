"""A worker's Prometheus metrics (served on its small HTTP port, /metrics). Alert rules on them:
deploy/alerts.yml."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

QUEUE_DEPTH = Gauge(
    "worker_queue_depth", "Messages ready in the queue of each partition this worker owns", ["partition"]
)
PARTITIONS_OWNED = Gauge("worker_partitions_owned", "Partitions this worker consumes")
TURN_SECONDS = Histogram(
    "worker_turn_seconds",
    "Time a Rasa turn took (model and actions), failed turns included",
    buckets=(0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0),
)
TURNS = Counter("worker_turns_total", "Turns by outcome (answered, failed, given_up)", ["outcome"])
TURNS_FAILED = Counter(
    "worker_turns_failed_total", "Failed turns by cause (exception type, action)", ["reason"]
)
RECOVERED = Counter(
    "worker_recovered_total", "Messages the recovery loop took (retries, never published, lost)"
)
