"""The assistant's intent and entity names, read once from domain.yml (for the correction form
and the intent filter)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any, NamedTuple

import yaml

from bot.config import PROJECT_ROOT


class AssistantNames(NamedTuple):
    intents: tuple[str, ...]
    entities: tuple[str, ...]


def _names(items: Iterable[Any]) -> tuple[str, ...]:
    return tuple(next(iter(item)) if isinstance(item, dict) else str(item) for item in items or [])


@lru_cache(maxsize=1)
def assistant_names() -> AssistantNames:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8")) or {}
    return AssistantNames(_names(domain.get("intents") or []), _names(domain.get("entities") or []))
