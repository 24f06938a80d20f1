"""When a wait ends, as a farmer reads it, in the venue's or the program's zone, with a fixed
clock: today, tomorrow (also when a short wait crosses midnight) or a named day."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.replies.spanish import until

MEXICO_CITY = "America/Mexico_City"  # UTC-6 all year since 2022


@pytest.mark.parametrize(
    ("now", "end", "said"),
    [
        (datetime(2026, 12, 1, 15, 0), datetime(2026, 12, 1, 15, 15), "las 09:15"),
        (datetime(2026, 12, 2, 5, 55), datetime(2026, 12, 2, 6, 10), "mañana a las 00:10"),
        (datetime(2026, 12, 1, 15, 0), datetime(2026, 12, 2, 15, 0), "mañana a las 09:00"),
        (datetime(2026, 12, 1, 15, 0), datetime(2026, 12, 3, 15, 0), "el jue 3 dic a las 09:00"),
        (datetime(2026, 12, 2, 5, 55), datetime(2026, 12, 2, 5, 59), "las 23:59"),
    ],
)
def test_a_wait_ends_today_tomorrow_or_on_a_named_day(now, end, said):
    utc = timezone.utc
    assert until(end.replace(tzinfo=utc), now.replace(tzinfo=utc), MEXICO_CITY) == said
