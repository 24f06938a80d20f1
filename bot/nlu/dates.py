"""Months as farmers name them: "en octubre", "el mes pasado", "este mes"."""

from __future__ import annotations

import calendar
import re
from datetime import date

from bot.text import MONTH_NAMES, plain

_ALIASES = {
    "setiembre": 9,
    "sept": 9,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dic": 12,
    "ene": 1,
    "feb": 2,
    "ago": 8,
}


def month_asked(text: str, today: date) -> tuple[date, date] | None:
    """The first and last day of the month a message names, or None. A month later in the year
    than today means last year's ("en noviembre", asked in March)."""
    said = plain(text)
    if re.search(r"\bmes pasado\b", said):
        year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
        return _bounds(year, month)
    if re.search(r"\beste mes\b", said):
        return _bounds(today.year, today.month)
    named = [_month_number(word) for word in re.findall(r"[a-z]+", said)]
    number = next((n for n in named if n), None)
    if number is None:
        return None
    return _bounds(today.year if number <= today.month else today.year - 1, number)


def year_asked(text: str, today: date) -> tuple[date, date] | None:
    """From the first of January to today when a message asks about the year so far ("este
    año", "en el año", "en lo que va del año"), else None."""
    if re.search(
        r"\b(?:este|en el|del|el|todo el) ano\b|\ben lo que va del ano\b|\bano entero\b", plain(text)
    ):
        return date(today.year, 1, 1), today
    return None


WEEKDAYS = ("lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo")


def weekday_asked(text: str) -> int | None:
    """The day of the week a message names ("el viernes"), Monday as 0, or None."""
    words = set(re.findall(r"[a-z]+", plain(text)))
    return next((number for number, name in enumerate(WEEKDAYS) if name in words), None)


def _month_number(word: str) -> int | None:
    return MONTH_NAMES.index(word) + 1 if word in MONTH_NAMES else _ALIASES.get(word)


def _bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
