"""Staff read times in the console's time zone; the database keeps UTC."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.timeutil import as_utc

UTC = ZoneInfo("UTC")


def local(moment: datetime | None, zone: str) -> datetime | None:
    return as_utc(moment).astimezone(ZoneInfo(zone)) if moment else None


def start_of(day: date, zone: str) -> datetime:
    """When a local calendar day begins, in UTC."""
    return datetime.combine(day, time.min, ZoneInfo(zone)).astimezone(UTC)


def day_bounds(
    day_from: date | None, day_to: date | None, zone: str
) -> tuple[datetime | None, datetime | None]:
    """Local calendar days [from, to] as UTC instants [start, end); open on a side not given."""
    start = start_of(day_from, zone) if day_from else None
    end = start_of(day_to + timedelta(days=1), zone) if day_to else None
    return start, end
