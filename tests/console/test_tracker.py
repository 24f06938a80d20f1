"""The console's copy of Rasa's tracker store: read-only on Rasa's side, incremental, rebuilt
when the tracker is reset."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select, text

from bot.console.schema import ConsoleMessage
from bot.db import session_scope
from tests.console.conftest import FAMILY, token_of


def tracker_fingerprint(url: str) -> str:
    from bot.console.tracker import tracker_engine

    with tracker_engine(url).connect() as conn:
        rows = conn.execute(
            text("SELECT id, sender_id, type_name, timestamp, data FROM events ORDER BY id")
        ).all()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_console_never_writes_rasa_events(console_env, client_for):
    before = tracker_fingerprint(console_env.tracker_url)
    client = client_for("officer")
    for path in ("/conversaciones", f"/conversaciones/{FAMILY}", "/panel"):
        client.get(path)
    token = token_of(client, f"/conversaciones/{FAMILY}")
    client.post(f"/conversaciones/{FAMILY}/revision", data={"csrf_token": token, "tags": "x"})
    assert tracker_fingerprint(console_env.tracker_url) == before
    if console_env.kind == "sqlite":
        from bot.console.tracker import tracker_engine

        with (
            pytest.raises(Exception, match="readonly|read-only|read only"),
            tracker_engine(console_env.tracker_url).begin() as conn,
        ):
            conn.execute(text("DELETE FROM events"))


def test_sync_is_incremental_and_survives_a_tracker_reset(console_env):
    from contextlib import contextmanager

    from sqlalchemy.orm import sessionmaker

    from bot.console import tracker
    from bot.db import engine

    factory = sessionmaker(bind=engine(console_env.url), future=True)

    @contextmanager
    def session_factory():
        with factory() as session:
            yield session

    tracker.sync(session_factory, console_env.tracker_url)
    assert tracker.sync(session_factory, console_env.tracker_url) == 0
    with session_scope(console_env.url) as session:
        users = session.execute(
            select(func.count(ConsoleMessage.id)).where(ConsoleMessage.kind == "user")
        ).scalar()
        bots = (
            session.execute(
                select(ConsoleMessage).where(ConsoleMessage.kind == "bot", ConsoleMessage.sender_id == FAMILY)
            )
            .scalars()
            .all()
        )
    assert users >= 6
    assert bots[0].in_reply_to == "SMfam0001" and bots[0].medium == "sms"


CODE_PHONE = "+524431000077"


def test_codes_a_farmer_types_are_masked_in_the_copy_and_everywhere_staff_read_it(console_env, client_for):
    """A check code or PIN is masked when the console copies it: in the text, the search text and
    the entities, hence in the transcript, its correction form, the search and the YAML export."""
    from tests.console.conftest import _event_time, _user, copy_tracker, write_events

    code_message = "mi codigo es 8204"
    write_events(
        console_env.tracker_url,
        {
            CODE_PHONE: [
                _user(
                    code_message,
                    "inform_number",
                    0.97,
                    _event_time(1),
                    "sms",
                    "SMcode0001",
                    entities=[{"entity": "weight", "value": "8204", "start": 13, "end": 17}],
                ),
                _user("nip nuevo 1 2 3 4", "set_pin", 0.9, _event_time(1, 5), "sms", "SMcode0002"),
                _user("mi folio PP-108204", "inform_number", 0.9, _event_time(1, 9), "sms", "SMcode0003"),
            ]
        },
    )
    copy_tracker(console_env)
    with session_scope(console_env.url) as session:
        rows = (
            session.execute(
                select(ConsoleMessage)
                .where(ConsoleMessage.sender_id == CODE_PHONE)
                .order_by(ConsoleMessage.id)
            )
            .scalars()
            .all()
        )
    assert [r.text for r in rows] == ["mi codigo es ••••", "nip nuevo • • • •", "mi folio PP-••••04"]
    assert [r.search_text for r in rows] == ["mi codigo es ••••", "nip nuevo • • • •", "mi folio pp-••••04"]
    assert '"value": "••••"' in rows[0].entities_json and "8204" not in rows[0].entities_json

    officer = client_for("officer")
    transcript = officer.get(f"/conversaciones/{CODE_PHONE}").get_data(as_text=True)
    assert "mi codigo es ••••" in transcript  # in the message and in its correction form
    for secret in ("8204", "1 2 3 4", "108204"):
        assert secret not in transcript
    assert CODE_PHONE.replace("+", "%2B") not in officer.get("/conversaciones?q=8204").get_data(as_text=True)

    token = token_of(officer, f"/conversaciones/{CODE_PHONE}")
    event_id = rows[0].event_id
    saved = officer.post(
        f"/conversaciones/{CODE_PHONE}/correccion/{event_id}",
        data={
            f"c{event_id}-csrf_token": token,
            "csrf_token": token,
            f"c{event_id}-event_id": event_id,
            f"c{event_id}-intent": "inform_number",
            f"c{event_id}-entities": "",
        },
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)[:300]
    exported = officer.get("/correcciones/nlu_correcciones.yml").get_data(as_text=True)
    assert "- mi codigo es ••••" in exported and "8204" not in exported


NOTICE_PHONE = "+524431000078"


def test_a_user_event_is_the_farmers_unless_it_carried_a_notice():
    from bot.console.tracker import user_event_kind
    from bot.records.notices import message_sid_for

    assert user_event_kind("greet", "SMabc") == "user"
    assert user_event_kind(None, None) == "user"
    assert user_event_kind("notice", "SMabc") == "notice"
    assert user_event_kind(None, message_sid_for(12)) == "notice"


def test_a_reply_copied_in_the_batch_after_its_notice_still_answers_the_notice(console_env):
    """A sync's batch starts from each sender's last copied message that came in: a notice too,
    not only what the farmer wrote, as within a batch."""
    from bot.records.notices import message_sid_for
    from tests.console.conftest import _action, _bot, _event_time, _user, copy_tracker, write_events

    sid = message_sid_for(990_001)
    write_events(
        console_env.tracker_url,
        {
            NOTICE_PHONE: [
                _user("hola", "greet", 0.99, _event_time(3), "sms", "SMntc0001"),
                _user("", "notice", 1.0, _event_time(2), "whatsapp", sid),
            ]
        },
    )
    copy_tracker(console_env)
    write_events(
        console_env.tracker_url,
        {
            NOTICE_PHONE: [
                _action("action_notice", _event_time(2, 1)),
                _bot("Aviso del programa.", _event_time(2, 1)),
            ]
        },
    )
    copy_tracker(console_env)
    with session_scope(console_env.url) as session:
        rows = (
            session.execute(
                select(ConsoleMessage)
                .where(ConsoleMessage.sender_id == NOTICE_PHONE)
                .order_by(ConsoleMessage.event_id)
            )
            .scalars()
            .all()
        )
    assert [r.kind for r in rows] == ["user", "notice", "action", "bot"]
    assert [(r.in_reply_to, r.medium) for r in rows[2:]] == [(sid, "whatsapp"), (sid, "whatsapp")]


def test_migration_0005_masks_the_codes_copied_before(tmp_path):
    """Rows copied (and corrected) before revision 0005 are masked by its data step."""
    from alembic import command
    from alembic.config import Config

    from bot.config import PROJECT_ROOT
    from bot.console.schema import ConsoleCorrection

    url = f"sqlite:///{tmp_path / 'program.db'}"
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes.update(database_url=url, configure_logger=False)
    command.upgrade(config, "0004")
    with session_scope(url) as session:
        session.execute(
            text(
                "INSERT INTO console_messages (event_id, sender_id, ts, kind, text, search_text, entities_json)"
                " VALUES (1, :p, CURRENT_TIMESTAMP, 'user', 'Mi código: 0117', 'mi codigo: 0117',"
                ' \'[{"entity": "weight", "value": "0117", "start": 11, "end": 15}]\'),'
                " (2, :p, CURRENT_TIMESTAMP, 'bot', 'Factura F-300101: $1,234.00', NULL, NULL),"
                " (3, :p, CURRENT_TIMESTAMP, 'user', 'calibre 32 de 2 kilos', 'calibre 32 de 2 kilos', NULL)"
            ),
            {"p": CODE_PHONE},
        )
        session.execute(
            text(
                "INSERT INTO console_corrections (event_id, sender_id, text, intent, corrected_by, corrected_at)"
                " VALUES (1, :p, 'Mi código: 0117', 'inform_number', 'officer', CURRENT_TIMESTAMP)"
            ),
            {"p": CODE_PHONE},
        )
    command.upgrade(config, "0005")
    with session_scope(url) as session:
        messages = session.execute(select(ConsoleMessage).order_by(ConsoleMessage.event_id)).scalars().all()
        correction = session.execute(select(ConsoleCorrection)).scalar_one()
        assert [m.text for m in messages] == [
            "Mi código: ••••",
            "Factura F-300101: $1,234.00",
            "calibre 32 de 2 kilos",
        ]
        assert messages[0].search_text == "mi codigo: ••••"
        assert '"value": "••••"' in messages[0].entities_json
        assert correction.text == "Mi código: ••••"
