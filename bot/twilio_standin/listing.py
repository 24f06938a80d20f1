"""The stand-in's Message resources as Twilio writes them, and Twilio's message list:

    GET /2010-04-01/Accounts/{AccountSid}/Messages.json
        ?To=ADDRESS&From=ADDRESS&DateSent=DAY&DateSent>=WHEN&DateSent<=WHEN&PageSize=N&Page=N

``WHEN`` is a day (``2026-12-10``: from its midnight, or to its end) or a moment
(``2026-12-10T14:03:00Z``, what twilio-python sends); most recent first, in pages, as Twilio
answers (what a sender reads to find out whether a send whose answer was lost reached Twilio).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.twilio_standin.state import StandinState


def _rfc2822(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return format_datetime(datetime.fromtimestamp(epoch, timezone.utc), usegmt=False)


def resource(record: dict[str, Any], *, listed: bool = False) -> dict[str, Any]:
    """A message as Twilio's API shows it: on creation queued and not yet sent; in the list with
    its current status (the stand-in "sends" at once)."""
    sid, account = record["sid"], record["account_sid"]
    return {
        "sid": sid,
        "account_sid": account,
        "to": record["to"],
        "from": record["from"] or None,
        "messaging_service_sid": record["messaging_service_sid"] or None,
        "body": record["body"],
        "status": record["status"] if listed else "queued",
        "num_segments": str(record["num_segments"]),
        "num_media": "0",
        "direction": "outbound-api",
        "api_version": "2010-04-01",
        "price": None,
        "error_code": record.get("error_code") if listed else None,
        "error_message": None,
        "date_created": _rfc2822(record["received_at"]),
        "date_sent": _rfc2822(record["received_at"]) if listed else None,
        "date_updated": _rfc2822(record["received_at"]),
        "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
        "subresource_uris": {},
    }


def _moment(value: str, end_of_day: bool = False) -> float:
    """Epoch seconds of a filter's value: a day (its start, or with ``end_of_day`` the next
    day's start) or an ISO moment."""
    text = value.strip()
    if len(text) == 10:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
        return (day + timedelta(days=1 if end_of_day else 0)).timestamp()
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def _selected(state: StandinState, query: dict[str, str]) -> list[dict[str, Any]]:
    after = _moment(query["DateSent>"]) if query.get("DateSent>") else None
    before = _moment(query["DateSent<"], end_of_day=True) if query.get("DateSent<") else None
    if query.get("DateSent"):
        after, before = _moment(query["DateSent"]), _moment(query["DateSent"], end_of_day=True)
    found = [
        m
        for m in state.messages
        if (not query.get("To") or m["to"] == query["To"])
        and (not query.get("From") or m["from"] == query["From"])
        and (after is None or m["received_at"] >= after)
        and (before is None or m["received_at"] < before)
    ]
    return sorted(found, key=lambda m: m["received_at"], reverse=True)


def _page_uri(path: str, query: dict[str, str], page: int, size: int) -> str:
    params = {k: v for k, v in query.items() if k not in ("Page", "PageSize", "PageToken")}
    params.update(Page=str(page), PageSize=str(size), PageToken=f"PA{page}")
    return f"{path}?{urlencode(params)}"


def list_page(request: web.Request, state: StandinState) -> web.Response:
    state.list_times.append(time.time())
    query = dict(request.query.items())
    # A literal "DateSent>=…" arrives as the key "DateSent>" (the value starts after the "=").
    size = max(1, min(1000, int(query.get("PageSize", "50") or 50)))
    page = max(0, int(query.get("Page", "0") or 0))
    found = _selected(state, query)
    chunk = found[page * size : (page + 1) * size]
    path = request.path
    more = (page + 1) * size < len(found)
    return web.json_response(
        {
            "messages": [resource(m, listed=True) for m in chunk],
            "page": page,
            "page_size": size,
            "start": page * size,
            "end": page * size + max(0, len(chunk) - 1),
            "uri": _page_uri(path, query, page, size),
            "first_page_uri": _page_uri(path, query, 0, size),
            "previous_page_uri": _page_uri(path, query, page - 1, size) if page else None,
            "next_page_uri": _page_uri(path, query, page + 1, size) if more else None,
        }
    )
