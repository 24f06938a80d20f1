"""One page of a long list."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Page:
    rows: list[Any]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))

    @property
    def first(self) -> int:
        return 0 if not self.total else (self.page - 1) * self.page_size + 1

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.page_size)


def page_number(requested: int, total: int, page_size: int) -> int:
    """The page asked for, kept between the first and the last."""
    return max(1, min(requested, max(1, math.ceil(total / page_size))))


def fetch_page(
    requested: int, page_size: int, count: Callable[[], int], rows: Callable[[int, int], list[Any]]
) -> Page:
    """``count()`` gives the total; ``rows(limit, offset)`` one page of rows."""
    total = count()
    page = page_number(requested, total, page_size)
    return Page(rows(page_size, (page - 1) * page_size), total, page, page_size)
