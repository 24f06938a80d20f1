"""bot/heap.py: start-up's objects frozen out of the collector's generations, and each collection
after that timed in the process's metrics."""

from __future__ import annotations

import gc

from prometheus_client import REGISTRY

from bot.heap import _timed, freeze_startup_objects


def _full_collections() -> float:
    return REGISTRY.get_sample_value("python_gc_pause_seconds_count", {"generation": "2"}) or 0.0


def test_startup_objects_are_frozen_and_each_full_collection_is_timed():
    before = _full_collections()
    try:
        freeze_startup_objects()
        frozen = gc.get_freeze_count()
        assert frozen > 1000  # every module's objects, this test's included
        freeze_startup_objects()  # a second call times each collection once, not twice
        assert gc.callbacks.count(_timed) == 1
        gc.collect()
        assert _full_collections() == before + 2  # the second call's collection, then this one
    finally:
        gc.callbacks.remove(_timed)
        gc.unfreeze()
