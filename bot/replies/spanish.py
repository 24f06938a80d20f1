"""Dates, times, money and record words in short Mexican Spanish."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.text import MONTH_NAMES
from bot.timeutil import as_utc

WEEKDAYS = ("lun", "mar", "mié", "jue", "vie", "sáb", "dom")
MONTHS = ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic")
ZONE_NAMES = {
    "America/Mexico_City": "hora del centro",
    "America/Mazatlan": "hora del Pacífico",
    "America/Hermosillo": "hora de Sonora",
    "America/Tijuana": "hora del noroeste",
    "America/Cancun": "hora del sureste",
}
STATE_SHORT = {
    "Michoacán": "Mich.",
    "Jalisco": "Jal.",
    "Estado de México": "Edomex",
    "Puebla": "Pue.",
    "Veracruz": "Ver.",
    "Colima": "Col.",
    "Nayarit": "Nay.",
    "Morelos": "Mor.",
    "Guerrero": "Gro.",
    "Oaxaca": "Oax.",
    "Chiapas": "Chis.",
    "Hidalgo": "Hgo.",
    "Tlaxcala": "Tlax.",
    "Sinaloa": "Sin.",
    "Sonora": "Son.",
}


def short_date(day: date) -> str:
    """'mar 2 dic'."""
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]}"


def local_datetime(moment: datetime, zone: str) -> str:
    """'sáb 6 dic, 10:00 (hora del centro)' in the venue's time zone."""
    local = as_utc(moment).astimezone(ZoneInfo(zone))
    zone_name = ZONE_NAMES.get(zone, zone)
    return f"{short_date(local.date())}, {local:%H:%M} ({zone_name})"


def local_day(moment: datetime, zone: str) -> str:
    """'sáb 6 dic' in the venue's time zone."""
    return short_date(as_utc(moment).astimezone(ZoneInfo(zone)).date())


def until(moment: datetime, now: datetime, zone: str) -> str:
    """When a wait ends, as a farmer reads it: 'las 14:35', 'mañana a las 09:10' or
    'el mié 2 dic a las 14:35', in the given zone's time."""
    end, today = as_utc(moment).astimezone(ZoneInfo(zone)), as_utc(now).astimezone(ZoneInfo(zone)).date()
    clock = f"{end:%H:%M}"
    if end.date() == today:
        return f"las {clock}"
    if (end.date() - today).days == 1:
        return f"mañana a las {clock}"
    return f"el {short_date(end.date())} a las {clock}"


def money(amount: Decimal) -> str:
    """'$37,765.00'."""
    return f"${Decimal(amount):,.2f}"


def kilos(amount: Decimal) -> str:
    value = Decimal(amount)
    return f"{value:,.0f} kg" if value == value.to_integral() else f"{value:,.1f} kg"


def month_name(day: date) -> str:
    """'octubre'."""
    return MONTH_NAMES[day.month - 1]


def first_name(full_name: str) -> str:
    return full_name.split()[0]


def short_name(full_name: str) -> str:
    """'Juan H.': enough for a family to tell who is who on a shared phone."""
    parts = full_name.split()
    return f"{parts[0]} {parts[1][0]}." if len(parts) > 1 else parts[0]


def place(municipality: str, state: str) -> str:
    return f"{municipality}, {STATE_SHORT.get(state, state)}"
