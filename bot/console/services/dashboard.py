"""The dashboard: a period's messages per day and medium, farmers served, top intents, messages
not understood, how fast requests for a person were answered, delivery failures; drawn as
server-side charts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup
from sqlalchemy.orm import Session

from bot.console import charts
from bot.console.local_time import start_of
from bot.console.queries.messages import messages_between
from bot.console.queries.replies import first_replies
from bot.console.vocabulary import FALLBACK_ACTION, OUT_OF_SCOPE_INTENT
from bot.messaging.outbound_reads import created_between as outbound_created_between
from bot.messaging.statuses import FAILED_STATUSES
from bot.records import requests as human_requests
from bot.records.vocabulary import MEDIA
from bot.timeutil import as_utc, utcnow

DEFAULT_DAYS = 30
MAX_DAYS = 366
OTHER = "otro"  # messages with no known medium
SERIES = {**MEDIA, OTHER: "Otro"}
# Waiting time until the first staff reply: (label, under this many minutes).
REPLY_BUCKETS = (("< 15 min", 15), ("15–60 min", 60), ("1–4 h", 240), ("4–24 h", 1440), ("> 24 h", None))
NO_REPLY = "sin respuesta"


@dataclass
class Dashboard:
    days: list[date]
    per_day: dict[str, list[int]]  # medium -> counts per day
    farmers_served: int
    conversations: int
    user_messages: int
    top_intents: list[tuple[str, int]]
    fallbacks: int
    out_of_scope: int
    human_requests: int
    answered: int
    reply_buckets: list[tuple[str, int]]
    median_minutes: float | None
    delivery_failures_per_day: list[int]
    delivery_total: int
    delivery_failed: int


def period(today: date, day_from: date | None, day_to: date | None) -> tuple[date, date]:
    """The days asked for: by default the last 30 up to today, in order, at most 366."""
    day_to = day_to or today
    day_from = day_from or day_to - timedelta(days=DEFAULT_DAYS - 1)
    if day_from > day_to:
        day_from, day_to = day_to, day_from
    if (day_to - day_from).days > MAX_DAYS:
        day_from = day_to - timedelta(days=MAX_DAYS)
    return day_from, day_to


class _Days:
    """Counting per local calendar day of the period."""

    def __init__(self, day_from: date, day_to: date, zone: str):
        self.days = [day_from + timedelta(days=i) for i in range((day_to - day_from).days + 1)]
        self._index = {d: i for i, d in enumerate(self.days)}
        self._zone = ZoneInfo(zone)

    def zeros(self) -> list[int]:
        return [0] * len(self.days)

    def index(self, moment: datetime) -> int | None:
        return self._index.get(as_utc(moment).astimezone(self._zone).date())


def summarise(session: Session, day_from: date, day_to: date, zone: str) -> Dashboard:
    """Every figure of the dashboard for local days [day_from, day_to]; a fixed number of
    queries, whatever the number of messages and requests."""
    start, end = start_of(day_from, zone), start_of(day_to + timedelta(days=1), zone)
    days = _Days(day_from, day_to, zone)
    figures: dict[str, Any] = {"days": days.days}
    figures.update(_messages(messages_between(session, start, end), days))
    requests = human_requests.created_between(session, start, end)
    figures.update(_replies(requests, first_replies(session, [r.id for r in requests])))
    figures.update(_failures(outbound_created_between(session, start, end), days))
    return Dashboard(**figures)


def _messages(rows: list[Any], days: _Days) -> dict[str, Any]:
    per_day = {medium: days.zeros() for medium in SERIES}
    intents: Counter = Counter()
    served, conversations = set(), set()
    user_messages = fallbacks = out_of_scope = 0
    for ts, medium, kind, intent, action, sender in rows:
        if kind == "action":
            fallbacks += action == FALLBACK_ACTION
            continue
        if kind == "notice":
            continue  # released by the scheduler, not written by the farmer
        i = days.index(ts)
        if i is not None:
            per_day[medium if medium in MEDIA else OTHER][i] += 1
        conversations.add(sender)
        if kind == "user":
            user_messages += 1
            served.add(sender)
            if intent:
                intents[intent] += 1
            out_of_scope += intent == OUT_OF_SCOPE_INTENT
    if not any(per_day[OTHER]):
        per_day.pop(OTHER)
    return {
        "per_day": per_day,
        "farmers_served": len(served),
        "conversations": len(conversations),
        "user_messages": user_messages,
        "top_intents": intents.most_common(10),
        "fallbacks": fallbacks,
        "out_of_scope": out_of_scope,
    }


def _bucket(minutes: float) -> str:
    return next(label for label, under in REPLY_BUCKETS if under is None or minutes < under)


def _replies(requests: list[Any], first: dict[int, datetime]) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    waits: list[float] = []
    for request in requests:
        if request.id not in first:
            counts[NO_REPLY] += 1
            continue
        waited = (as_utc(first[request.id]) - as_utc(request.created_at)).total_seconds() / 60
        waits.append(waited)
        counts[_bucket(waited)] += 1
    labels = [label for label, _ in REPLY_BUCKETS] + [NO_REPLY]
    return {
        "human_requests": len(requests),
        "answered": len(waits),
        "reply_buckets": [(label, counts[label]) for label in labels],
        "median_minutes": median(waits) if waits else None,
    }


def _failures(rows: list[tuple[datetime, str]], days: _Days) -> dict[str, Any]:
    per_day = days.zeros()
    failed = 0
    for created, status in rows:
        if status in FAILED_STATUSES:
            failed += 1
            i = days.index(created)
            if i is not None:
                per_day[i] += 1
    return {"delivery_failures_per_day": per_day, "delivery_total": len(rows), "delivery_failed": failed}


@dataclass
class DashboardPage:
    d: Dashboard
    charts: dict[str, Markup]
    day_from: date
    day_to: date
    series: dict[str, str]  # medium code -> the name staff read


def dashboard_page(session: Session, day_from: date | None, day_to: date | None, zone: str) -> DashboardPage:
    day_from, day_to = period(utcnow().astimezone(ZoneInfo(zone)).date(), day_from, day_to)
    d = summarise(session, day_from, day_to, zone)
    return DashboardPage(d, _charts(d), day_from, day_to, SERIES)


def _charts(d: Dashboard) -> dict[str, Markup]:
    labels = [f"{x.day}/{x.month}" for x in d.days]
    not_understood = min(d.user_messages, d.fallbacks + d.out_of_scope)
    return {
        "per_day": charts.stacked_bars("Mensajes por día y por medio", labels, d.per_day, SERIES),
        "intents": charts.hbars("Intenciones más frecuentes", d.top_intents),
        "fallback": charts.share_bar(
            "Mensajes no entendidos o fuera de tema",
            not_understood,
            d.user_messages,
            "No entendidos o fuera de tema",
            "Entendidos",
        ),
        "replies": charts.hbars(
            "Tiempo hasta la primera respuesta de una persona", d.reply_buckets, color="#6b4c9a"
        ),
        "failures": charts.stacked_bars(
            "Mensajes con falla de entrega por día",
            labels,
            {"fallas": d.delivery_failures_per_day},
            {"fallas": "Fallas de entrega"},
            width=560,
            height=220,
        ),
    }
