"""Python's garbage collector in the production mode's long-running processes (the gateway, the
Rasa worker, the sender)."""

from __future__ import annotations

import gc
import time
from typing import Any

from prometheus_client import Histogram

GC_PAUSES = Histogram(
    "python_gc_pause_seconds",
    "Time each garbage collection held the process, by generation (2: a full collection)",
    ["generation"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25),
)
_began: list[float] = []


def _timed(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _began[:] = [time.perf_counter()]
    elif _began:
        GC_PAUSES.labels(str(info["generation"])).observe(time.perf_counter() - _began.pop())


def freeze_startup_objects() -> None:
    """Called once a process has started (its imports, its app, the worker's model): what start-up
    left as garbage is collected, and every object still alive is moved out of the collector's
    generations for good (``gc.freeze``). A full collection then walks only the objects made
    since, not every module, the phone number metadata or the model as well: in a gateway, full
    collections of 30-55 ms of the GIL fell in the middle of bursts of webhooks (bench/README.md,
    *Acknowledgement*). Objects frozen are never freed, so only start-up's, which live as long as
    the process, are frozen. Each collection from then on is timed in ``python_gc_pause_seconds``
    (the process's /metrics)."""
    gc.collect()
    gc.freeze()
    if _timed not in gc.callbacks:
        gc.callbacks.append(_timed)
