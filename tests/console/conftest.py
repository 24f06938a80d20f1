"""Fixtures for the staff console: a migrated, seeded program database and a Rasa tracker store
written by Rasa's own SQLTrackerStore with real events (SQLite always; PostgreSQL too when
TEST_POSTGRES_URL is reachable), staff accounts of each role, and logged-in test clients with
CSRF protection switched on."""

from __future__ import annotations

import asyncio
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.engine import make_url

from bot.db import session_scope
from bot.records.schema import HumanRequest
from tests.databases import empty_database, make_database

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "clave-de-prueba-123"

# The conversations every console test reads (phones of the seeded demo farmers).
ROSA = "+524431000001"  # WhatsApp, recent, payment question (the bot's reply has an amount)
FAMILY = "+524431000002"  # SMS, low confidence, fallback, asked for a person (shared phone)
ADRIANA = "+522441000003"  # WhatsApp, last message 30 hours ago (24-hour window closed)
UNKNOWN = "+524439999999"  # not registered, a photo, out of scope, 40 days ago
PAYMENT_REPLY = "Su factura F-204518 por $37,765.00 tiene pago programado para el vie 5 dic."


def _event_time(hours_ago: float, minute: int = 0) -> float:
    return (datetime.now(timezone.utc) - timedelta(hours=hours_ago) + timedelta(seconds=minute)).timestamp()


def _ent(text_: str, value: str, entity: str) -> dict:
    start = text_.index(value)
    return {
        "entity": entity,
        "value": value,
        "start": start,
        "end": start + len(value),
        "extractor": "RegexEntityExtractor",
    }


def _user(
    text_: str, intent: str, confidence: float, ts: float, medium: str, sid: str, entities=None, media=None
):
    from rasa.shared.core.events import UserUttered

    entities = entities or []
    parse_data = {
        "text": text_,
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities,
        "intent_ranking": [{"name": intent, "confidence": confidence}],
    }
    metadata = {"medium": medium, "message_sid": sid, "media": media or [], "num_media": len(media or [])}
    return UserUttered(
        text_,
        intent={"name": intent, "confidence": confidence},
        entities=entities,
        parse_data=parse_data,
        timestamp=ts,
        input_channel=medium,
        message_id=sid,
        metadata=metadata,
    )


def _bot(text_: str, ts: float):
    from rasa.shared.core.events import BotUttered

    return BotUttered(text_, metadata={}, timestamp=ts)


def _action(name: str, ts: float):
    from rasa.shared.core.events import ActionExecuted

    return ActionExecuted(name, timestamp=ts)


def conversations() -> dict[str, list]:
    rosa = 2.0
    family = 72.0
    adriana = 30.0
    unknown = 24 * 40.0
    return {
        ROSA: [
            _action("action_session_start", _event_time(rosa, 0)),
            _action("action_listen", _event_time(rosa, 1)),
            _user("Hola buenas tardes", "greet", 0.98, _event_time(rosa, 2), "whatsapp", "SMrosa0001"),
            _action("action_greet", _event_time(rosa, 3)),
            _bot("¡Hola! Soy el asistente del programa. ¿En qué le ayudo?", _event_time(rosa, 3)),
            _action("action_listen", _event_time(rosa, 4)),
            _user(
                "¿ya me pagaron la factura F-204518?",
                "ask_payment_status",
                0.91,
                _event_time(rosa, 60),
                "whatsapp",
                "SMrosa0002",
                entities=[_ent("¿ya me pagaron la factura F-204518?", "F-204518", "invoice_folio")],
            ),
            _action("action_ask_payment_status", _event_time(rosa, 61)),
            _bot(PAYMENT_REPLY, _event_time(rosa, 61)),
            _action("action_listen", _event_time(rosa, 62)),
        ],
        FAMILY: [
            _action("action_listen", _event_time(family, 0)),
            _user(
                "kiero saber del kalibre 32 de aguacate",
                "ask_avocado_size",
                0.42,
                _event_time(family, 1),
                "sms",
                "SMfam0001",
                entities=[_ent("kiero saber del kalibre 32 de aguacate", "aguacate", "product")],
            ),
            _action("action_nlu_fallback", _event_time(family, 2)),
            _bot(
                "Perdone, no le entendí. Escriba 1 para pagos, 2 para capacitaciones.", _event_time(family, 2)
            ),
            _action("action_listen", _event_time(family, 3)),
            _user(
                "quiero hablar con una persona",
                "request_human",
                0.95,
                _event_time(family, 90),
                "sms",
                "SMfam0002",
            ),
            _action("action_request_human", _event_time(family, 91)),
            _bot("Le paso su mensaje al personal del programa.", _event_time(family, 91)),
        ],
        ADRIANA: [
            _user(
                "¿cuándo es la capacitación de calidad?",
                "ask_trainings",
                0.88,
                _event_time(adriana),
                "whatsapp",
                "SMadr0001",
                entities=[_ent("¿cuándo es la capacitación de calidad?", "calidad", "training_topic")],
            ),
            _action("action_ask_trainings", _event_time(adriana, 1)),
            _bot("La próxima capacitación de calidad es el sáb 6 dic en Atlixco.", _event_time(adriana, 1)),
        ],
        UNKNOWN: [
            _user(
                "",
                "out_of_scope",
                0.31,
                _event_time(unknown),
                "whatsapp",
                "SMunk0001",
                media=[
                    {
                        "url": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
                        "content_type": "image/jpeg",
                    }
                ],
            ),
            _action("action_out_of_scope", _event_time(unknown, 1)),
            _bot("Solo puedo ayudar con pagos, capacitaciones y calidad.", _event_time(unknown, 1)),
        ],
    }


def tracker_store(tracker_url: str):
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    domain = Domain.load(str(ROOT / "domain.yml"))
    parsed = make_url(tracker_url)
    if parsed.drivername.startswith("sqlite"):
        return SQLTrackerStore(domain, dialect="sqlite", db=parsed.database)
    return SQLTrackerStore(
        domain,
        dialect="postgresql",
        host=parsed.host,
        port=parsed.port,
        db=parsed.database,
        username=parsed.username,
        password=parsed.password,
    )


def write_events(tracker_url: str, by_sender: dict[str, list]) -> None:
    """Saves the events through Rasa's own tracker store, one DialogueStateTracker per sender."""
    from rasa.shared.core.trackers import DialogueStateTracker

    store = tracker_store(tracker_url)

    async def save_all():
        for sender, events in by_sender.items():
            tracker = await store.retrieve(sender) or DialogueStateTracker(sender, store.domain.slots)
            for event in events:
                tracker.update(event)
            await store.save(tracker)

    asyncio.run(save_all())
    store.engine.dispose()


@dataclass
class ConsoleEnv:
    kind: str
    url: str
    tracker_url: str
    tmp: Path


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def console_env(request, tmp_path_factory):
    """Fresh databases per test module: the program records (migrated to every head, seeded)
    and the tracker store (written by Rasa)."""
    kind = request.param
    tmp = tmp_path_factory.mktemp(f"console-{kind}")
    url, drop = make_database(kind, tmp)  # migrated (records, messaging, console) and seeded
    tracker_url, drop_tracker = empty_database(kind, tmp, prefix="console_tracker")
    cleanups = [drop, drop_tracker]
    with session_scope(url) as session:
        session.add(
            HumanRequest(
                phone=FAMILY,
                conversation_id=FAMILY,
                farmer_id=None,
                reason="asked",
                last_message="quiero hablar con una persona",
                status="open",
                created_at=datetime.now(timezone.utc) - timedelta(hours=70),
            )
        )
    write_events(tracker_url, conversations())
    mp = pytest.MonkeyPatch()
    mp.setenv("DATABASE_URL", url)
    mp.setenv("TRACKER_DATABASE_URL", tracker_url)
    for variable in (
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_API_BASE",
        "TWILIO_WHATSAPP_FROM",
        "TWILIO_SMS_FROM",
        "TWILIO_MESSAGING_SERVICE_SID",
        "TWILIO_PUBLIC_BASE_URL",
        "CONSOLE_WHATSAPP_TEMPLATE_SID",
    ):
        mp.delenv(variable, raising=False)
    from bot.console.services.accounts import create_account

    with session_scope(url) as session:
        for role in ("viewer", "officer", "admin"):
            create_account(session, role, role, PASSWORD)
    yield ConsoleEnv(kind, url, tracker_url, tmp)
    mp.undo()
    from bot.console.tracker import tracker_engine
    from bot.db import engine_for

    tracker_engine.cache_clear()
    engine_for(url).dispose()
    for cleanup in cleanups:
        cleanup()


def make_app(env: ConsoleEnv, **config):
    from bot.console.app import create_app
    from bot.console.config import ConsoleSettings

    settings = ConsoleSettings.from_env()
    settings = ConsoleSettings(
        database_url=env.url,
        tracker_database_url=env.tracker_url,
        timezone=settings.timezone,
        page_size=config.pop("page_size", 25),
        whatsapp_template_sid=config.pop("whatsapp_template_sid", ""),
        https=config.pop("https", False),
        trusted_proxies=config.pop("trusted_proxies", 0),
    )
    base = {
        "TESTING": True,
        "WTF_CSRF_ENABLED": True,
        "SECRET_KEY": "test-secret",
        "CONSOLE_SETTINGS": settings,
    }
    base.update(config)
    return create_app(base)


@pytest.fixture(scope="module")
def app(console_env):
    return make_app(console_env)


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD):
    page = client.get("/entrar")
    token = csrf_from(page.get_data(as_text=True))
    return client.post("/entrar", data={"username": username, "password": password, "csrf_token": token})


@pytest.fixture
def client_for(app):
    def make(role: str):
        client = app.test_client()
        response = login(client, role)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return make


def token_of(client, path: str) -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


def senders(html: str) -> set[str]:
    return set(re.findall(r'href="/conversaciones/(%2B\d+|\+\d+)"', html))


def listed(client, query: str = "") -> set[str]:
    html = client.get(f"/conversaciones{query}").get_data(as_text=True)
    return {s.replace("%2B", "+") for s in senders(html)}


def copy_tracker(env: ConsoleEnv) -> int:
    """Copies the tracker's events into console_messages, as opening a page does."""
    from contextlib import contextmanager

    from sqlalchemy.orm import sessionmaker

    from bot.console import tracker
    from bot.db import engine

    factory = sessionmaker(bind=engine(env.url), future=True)

    @contextmanager
    def session_factory():
        with factory() as session:
            yield session

    return tracker.sync(session_factory, env.tracker_url)


@contextmanager
def counting(engine):
    """The SQL statements run on an engine inside the block (a list that fills as they run). A
    statement run for many rows at once (an executemany, as PostgreSQL's driver batches inserts
    of the same shape) counts once per row, so the count does not depend on the dialect's batching.
    Only this thread's statements count: a background worker sharing the engine (the outbox's
    poller) must not make the count flutter."""
    statements: list[str] = []
    mine = threading.get_ident()

    def count(conn, cursor, statement, parameters, context, executemany):
        if threading.get_ident() == mine:
            statements.extend([statement] * (len(parameters) if executemany else 1))

    sqlalchemy_event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sqlalchemy_event.remove(engine, "before_cursor_execute", count)
