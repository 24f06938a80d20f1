"""The retention purge (bot/retention.py) on real databases: the program's (SQLite, and
PostgreSQL when reachable) and Rasa's tracker store written by Rasa itself. Rows past their
period are deleted or emptied, recent ones are kept, a second run changes nothing, a dry run
changes nothing, and farmers, invoices, consents and BAJA history are never touched."""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bot import cli, retention
from bot.config import settings
from bot.console.schema import (
    ConsoleAudit,
    ConsoleCorrection,
    ConsoleLogin,
    ConsoleMessage,
    ConsoleReply,
    ConsoleReview,
)
from bot.console.tracker import EVENTS
from bot.db import session_scope
from bot.messaging.schema import (
    InboundMessage,
    MessageStatusEvent,
    OptOutEvent,
    OutboundMessage,
    OutboxEntry,
)
from bot.records.schema import (
    Consent,
    Farmer,
    HandledMessage,
    HumanRequest,
    Invoice,
    PaymentAccessLog,
)
from bot.timeutil import utcnow
from tests.console.conftest import _action, _bot, _user, write_events
from tests.databases import empty_database, make_database

PHONE = "+524431000001"
NOW = utcnow()
DAYS = {
    "old": 400,
    "past_media": 100,
    "past_raw": 40,
    "past_replies": 10,
    "recent": 5,
    "ancient": 2000,
    "last_year": 300,
}
CONFIG = dataclasses.replace(
    settings(),
    retention_transcripts_days=365,
    retention_raw_params_days=30,
    retention_media_days=90,
    retention_audit_days=1827,
    retention_replies_days=7,
)
MEDIA = [{"url": "https://api.twilio.com/Accounts/AC1/Messages/MM1/Media/ME1", "content_type": "image/jpeg"}]


def ago(key: str):
    return NOW - timedelta(days=DAYS[key])


def ts(key: str) -> float:
    return ago(key).timestamp()


@pytest.fixture(params=["sqlite", "postgresql"])
def stores(request, tmp_path, monkeypatch):
    """A seeded program database with messages of every age, and a tracker store with events of
    every age."""
    url, cleanup = make_database(request.param, tmp_path)
    tracker_url, drop_tracker = empty_database(request.param, tmp_path, prefix="retention_tracker")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("TRACKER_DATABASE_URL", tracker_url)
    with session_scope(url) as s:
        _program_rows(s)
    write_events(tracker_url, {PHONE: _events()})
    yield url, tracker_url
    cleanup()
    drop_tracker()


def _inbound(s, key: str) -> None:
    s.add(
        InboundMessage(
            message_sid=f"SM{key}",
            medium="whatsapp",
            phone=PHONE,
            from_address=f"whatsapp:{PHONE}",
            body=f"mensaje {key}",
            kind="media",
            profile_name="Rosa",
            wa_id="5214431000001",
            num_media=1,
            media_json=json.dumps(MEDIA),
            raw_params=json.dumps({"From": f"whatsapp:{PHONE}", "ProfileName": "Rosa"}),
            status="processed",
            received_at=ago(key),
        )
    )


def _program_rows(s) -> None:
    for key in ("old", "past_media", "past_raw", "recent"):
        _inbound(s, key)
    for key in ("old", "recent"):
        out = OutboundMessage(
            medium="whatsapp", phone=PHONE, to_address=f"whatsapp:{PHONE}", body=f"respuesta {key}"
        )
        out.created_at, out.twilio_sid, out.status = ago(key), f"SMout{key}", "delivered"
        s.add(out)
        s.flush()
        s.add(MessageStatusEvent(outbound_id=out.id, twilio_sid=out.twilio_sid, status="sent"))
        s.add(OutboxEntry(outbound_id=out.id, done_at=ago(key)))
        s.add(
            ConsoleReply(phone=PHONE, medium="sms", body=f"hola {key}", username="ana", created_at=ago(key))
        )
        s.add(
            ConsoleCorrection(
                event_id=9000 + DAYS[key],
                sender_id=PHONE,
                text=f"texto {key}",
                intent="greet",
                corrected_by="ana",
                corrected_at=ago(key),
            )
        )
        s.add(
            HumanRequest(phone=PHONE, conversation_id=PHONE, last_message=f"ayuda {key}", created_at=ago(key))
        )
    s.add(MessageStatusEvent(outbound_id=None, twilio_sid="SMorphan", status="sent", received_at=ago("old")))
    s.add(ConsoleReview(sender_id=PHONE, reviewed=True, note="revisada", updated_at=ago("old")))
    for key in ("old", "past_media", "recent"):
        s.add(
            ConsoleMessage(
                event_id=8000 + DAYS[key],
                sender_id=PHONE,
                ts=ago(key),
                kind="user",
                text=f"copia {key}",
                media_json=json.dumps(MEDIA),
            )
        )
    farmer_id = s.execute(select(Farmer.id)).scalars().first()
    for key in ("ancient", "last_year"):
        s.add(ConsoleAudit(username="ana", action="view_farmer", farmer_id=farmer_id, at=ago(key)))
        s.add(ConsoleLogin(username="ana", outcome="success", at=ago(key)))
        s.add(PaymentAccessLog(phone=PHONE, farmer_id=farmer_id, invoice_folios="F-1", shown_at=ago(key)))
    for key in ("past_replies", "recent"):
        s.add(
            HandledMessage(
                conversation_id=PHONE,
                message_id=f"SMhandled{key}",
                phone=PHONE,
                reply_json=json.dumps({"messages": [f"respuesta {key}"]}),
                handled_at=ago(key),
            )
        )
    # What is never purged, however old.
    s.add(Consent(phone=PHONE, accepted=True, notice_version="2025-03", recorded_at=ago("ancient")))
    s.add(OptOutEvent(phone=PHONE, action="opt_out", keyword="BAJA", recorded_at=ago("ancient")))
    s.add(
        Invoice(
            folio="F-OLD-1",
            farmer_id=farmer_id,
            amount_mxn=100,
            status="paid",
            issued_on=date.today() - timedelta(days=4000),
            updated_at=ago("ancient"),
        )
    )


def _events() -> list:
    events = []
    for key in ("old", "past_media", "past_raw", "recent"):
        user = _user(f"hola {key}", "greet", 0.9, ts(key), "whatsapp", f"SMev{key}", media=MEDIA)
        user.metadata = {**user.metadata, "profile_name": "Rosa", "wa_id": "5214431000001"}
        events += [user, _action("action_greet", ts(key) + 1), _bot(f"respuesta {key}", ts(key) + 1)]
    return events


def _counts(url: str) -> dict[str, int]:
    models = {
        "inbound": InboundMessage,
        "outbound": OutboundMessage,
        "status_events": MessageStatusEvent,
        "outbox": OutboxEntry,
        "console_messages": ConsoleMessage,
        "replies": ConsoleReply,
        "corrections": ConsoleCorrection,
        "reviews": ConsoleReview,
        "audit": ConsoleAudit,
        "logins": ConsoleLogin,
        "payment_views": PaymentAccessLog,
        "farmers": Farmer,
        "invoices": Invoice,
        "consents": Consent,
        "opt_outs": OptOutEvent,
        "requests": HumanRequest,
        "handled": HandledMessage,
    }
    with session_scope(url) as s:
        counts = {name: s.execute(select(func.count()).select_from(m)).scalar() for name, m in models.items()}
        counts["raw_params"] = s.execute(
            select(func.count()).where(InboundMessage.raw_params.isnot(None))
        ).scalar()
        counts["inbound_media"] = s.execute(
            select(func.count()).where(InboundMessage.media_json.isnot(None))
        ).scalar()
        counts["request_texts"] = s.execute(
            select(func.count()).where(HumanRequest.last_message.isnot(None))
        ).scalar()
    return counts


def _tracker(tracker_url: str) -> dict[str, dict]:
    """The user events left, by text: their metadata."""
    with session_scope(tracker_url) as t:
        rows = t.execute(select(EVENTS.c.type_name, EVENTS.c.data)).all()
    users = {json.loads(d)["text"]: json.loads(d).get("metadata", {}) for kind, d in rows if kind == "user"}
    return {"users": users, "total": len(rows)}


def _purge(url: str, tracker_url: str, dry_run: bool = False) -> retention.PurgeReport:
    with session_scope(url) as s, session_scope(tracker_url) as t:
        return retention.purge(s, t, CONFIG, now=NOW, dry_run=dry_run)


def test_purge_deletes_what_is_past_its_period_and_keeps_the_rest(stores, caplog):
    url, tracker_url = stores
    before = _counts(url)
    tracker_before = _tracker(tracker_url)
    assert set(tracker_before["users"]) == {"hola old", "hola past_media", "hola past_raw", "hola recent"}

    dry = _purge(url, tracker_url, dry_run=True)
    assert _counts(url) == before and _tracker(tracker_url) == tracker_before  # a dry run changes nothing

    with caplog.at_level(logging.INFO, logger="bot.retention"):
        report = _purge(url, tracker_url)
    assert [(c.kind, c.what, c.rows) for c in report.counts] == [
        (c.kind, c.what, c.rows) for c in dry.counts
    ]  # the dry run counted what the real run did
    rows = {c.what: c.rows for c in report.counts}
    assert rows["inbound_messages"] == 1 and rows["outbound_messages"] == 1
    assert rows["message_status_events"] == 1  # the orphan; the old message's went with it
    assert rows["console_messages"] == 1 and rows["console_replies"] == 1
    assert rows["console_corrections"] == 1 and rows["console_reviews"] == 1
    assert rows["human_requests.last_message"] == 1
    assert rows["inbound_messages.raw_params"] == 2  # 40 and 100 days old (the 400-day one is gone)
    assert rows["inbound_messages.media_json"] == 1  # 100 days old
    assert rows["console_messages.media_json"] == 1
    assert rows["console_audit"] == rows["console_logins"] == rows["payment_access_log"] == 1
    assert rows["handled_messages"] == 1  # 10 days old: replies kept against redelivery, 7 days
    assert rows["events (Rasa)"] == 3  # the old message, its action and the bot's reply
    assert rows["events (Rasa): profile name"] == 2 and rows["events (Rasa): media"] == 1

    after = _counts(url)
    for name in ("inbound", "outbound", "console_messages", "replies", "corrections", "reviews"):
        assert after[name] == before[name] - 1, name
    assert after["status_events"] == before["status_events"] - 2
    assert after["outbox"] == before["outbox"] - 1
    assert (after["raw_params"], after["inbound_media"]) == (1, 2)  # only the recent ones hold them
    assert after["request_texts"] == before["request_texts"] - 1 and after["requests"] == before["requests"]
    assert after["audit"] == 1 and after["logins"] == 1 and after["payment_views"] == 1
    assert after["handled"] == before["handled"] - 1
    for kept in ("farmers", "invoices", "consents", "opt_outs"):
        assert after[kept] == before[kept], kept
    with session_scope(url) as s:
        assert s.execute(select(Invoice).where(Invoice.folio == "F-OLD-1")).scalar_one()
        left = set(s.execute(select(InboundMessage.message_sid)).scalars()) & {
            "SMold",
            "SMpast_media",
            "SMpast_raw",
            "SMrecent",
        }
        assert left == {"SMpast_media", "SMpast_raw", "SMrecent"}
        recent = s.execute(
            select(InboundMessage).where(InboundMessage.message_sid == "SMrecent")
        ).scalar_one()
        assert recent.raw_params and recent.profile_name == "Rosa" and recent.media_json

    users = _tracker(tracker_url)["users"]
    assert set(users) == {"hola past_media", "hola past_raw", "hola recent"}
    assert "profile_name" not in users["hola past_raw"] and "wa_id" not in users["hola past_raw"]
    assert users["hola past_raw"]["media"] == MEDIA  # media are kept 90 days
    assert "media" not in users["hola past_media"] and "profile_name" not in users["hola past_media"]
    assert users["hola recent"]["profile_name"] == "Rosa" and users["hola recent"]["media"] == MEDIA
    assert users["hola recent"]["message_sid"] == "SMevrecent"  # the rest of the metadata stays

    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "row(s)" in logged and PHONE not in logged and "Rosa" not in logged and "hola" not in logged

    again = _purge(url, tracker_url)
    assert again.total() == 0, [(c.what, c.rows) for c in again.counts if c.rows]
    assert _counts(url) == after


def test_cli_purge_prints_counts_and_a_second_run_finds_nothing(stores, capsys):
    url, _tracker_url = stores
    before = _counts(url)
    assert cli.main(["purge", "--dry-run"]) == 0
    dry = capsys.readouterr().out
    assert "conversaciones y mensajes (más de 365 días)" in dry and "No se borró nada" in dry
    assert _counts(url) == before
    assert cli.main(["purge"]) == 0
    first = capsys.readouterr().out
    assert "events (Rasa): 3" in first and "inbound_messages: 1" in first
    assert PHONE not in first
    assert cli.main(["purge"]) == 0
    second = capsys.readouterr().out
    assert all(line.rstrip().endswith(": 0") for line in second.splitlines() if line.startswith("  "))


def test_a_period_below_one_day_is_refused(stores):
    url, tracker_url = stores
    with pytest.raises(ValueError, match="RETENTION_MEDIA_DAYS"), session_scope(url) as s:
        retention.purge(s, None, dataclasses.replace(CONFIG, retention_media_days=0), now=NOW)
