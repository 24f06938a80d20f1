"""Backups (README, *Production* > *Backups*): scripts/backup.sh dumps the program's database and
Rasa's tracker store, scripts/restore.sh puts the dumps into fresh databases, and the program on
the restored databases answers a farmer as it did on the source: the same consent, check code,
invoices, BAJA, messages waiting for a worker or a sender, and conversation. A database that is
not empty is refused unless the restore is told to replace it. On real PostgreSQL
(TEST_POSTGRES_URL) with pg_dump and pg_restore; each run makes its databases and drops them."""

from __future__ import annotations

import asyncio
import functools
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, func, inspect, select, table, text
from sqlalchemy.engine import make_url

from bot.assistant.payments import describe
from bot.db import engine_for, session_scope
from bot.messaging import inbound_claims, inbound_work, turns
from bot.messaging.inbound import mark_inbound
from bot.messaging.optout import is_opted_out, opted_out_since
from bot.messaging.outbound import enqueue_replies, pending_outbox_count
from bot.records.consents import has_consented, is_revoked, record_consent, revoke
from bot.records.farmers import farmers_for_phone
from bot.records.migrate import upgrade
from bot.records.payments import recent_invoices
from bot.records.seed import seed_demo
from tests.assistant.phone import ADRIANA, ROSA, SHARED, Phone, accepted
from tests.databases import ANCHOR, fresh_postgres, postgres_admin_url
from tests.production.support import message

ROOT = Path(__file__).resolve().parents[2]
PARTITION = 3
# Put into the URLs the scripts get when the test server lets this role in without one (trust):
# the scripts must hand it to PostgreSQL's clients (percent-decoded) and never print it.
PASSWORD = "n0t-for-logs@x"

missing = [tool for tool in ("pg_dump", "pg_restore", "psql", "sha256sum") if shutil.which(tool) is None]
pytestmark = pytest.mark.skipif(
    bool(missing),
    reason=f"{', '.join(missing)} not on PATH (PostgreSQL's client tools make and restore the dumps)",
)


@dataclass(frozen=True)
class Backup:
    program: str  # the source databases, as they were when the backup was taken
    tracker: str
    folder: Path
    state: tuple[list[str], dict[str, int]]  # the program database's Alembic revision and row counts
    events: list[dict]  # the farmer's conversation in Rasa's tracker store
    waiting: str  # the MessageSid stored but never confirmed by the broker
    sequence: int  # its number in the farmer's sequence


@functools.cache
def _for_scripts(url: str) -> tuple[str, tuple[str, ...]]:
    """The URL the scripts get, and what of it they must never print: the URL itself and its
    password. With PASSWORD in it when the server accepts the role without one (trust), so the
    scripts' password path runs; otherwise as given."""
    parsed = make_url(url)
    if parsed.password is None:
        trying = parsed.set(password=PASSWORD)
        engine = create_engine(trying)
        try:
            with engine.connect() as connection:
                connection.execute(text("select 1"))
            parsed = trying
        except Exception:
            pass
        finally:
            engine.dispose()
    given = parsed.render_as_string(hide_password=False)
    password = "" if parsed.password is None else str(parsed.password)
    secrets = (given, make_url(url).render_as_string(hide_password=False), password, quote(password, safe=""))
    return given, tuple(secret for secret in secrets if secret)


def _run(script: str, *args: str, program: str, tracker: str, **env: str) -> subprocess.CompletedProcess:
    urls = {"DATABASE_URL": _for_scripts(program)[0], "TRACKER_DATABASE_URL": _for_scripts(tracker)[0]}
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / script), *args],
        env={**os.environ, **urls, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    printed = done.stdout + done.stderr
    for url in (program, tracker):
        assert not [secret for secret in _for_scripts(url)[1] if secret in printed]
    return done


def _state(url: str) -> tuple[list[str], dict[str, int]]:
    """The Alembic revision and the number of rows in every table."""
    with engine_for(url).connect() as connection:
        revision = sorted(MigrationContext.configure(connection).get_current_heads())
        names = inspect(connection).get_table_names()
        counts = {
            name: connection.execute(select(func.count()).select_from(table(name))).scalar_one()
            for name in names
        }
    return revision, counts


def _events(url: str) -> list[dict]:
    from rasa.shared.core.domain import Domain

    from bot.worker.rasa_turns import tracker_store_for

    store = tracker_store_for(url)
    store.domain = Domain.empty()
    try:
        tracker = asyncio.run(store.retrieve(ROSA))
    finally:
        store.engine.dispose()
    assert tracker is not None
    return [event.as_dict() for event in tracker.events]


def _talk_in_tracker(url: str) -> None:
    """The farmer's first message, saved by Rasa's tracker store (as a worker's turn does)."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.worker.rasa_turns import tracker_store_for

    store = tracker_store_for(url)
    store.domain = Domain.empty()
    tracker = DialogueStateTracker(ROSA, [])
    tracker.update(UserUttered("cuando me pagan", message_id="SMbackup-first"))
    try:
        asyncio.run(store.save(tracker))
    finally:
        store.engine.dispose()


def _state_that_matters(url: str) -> tuple[str, int]:
    """What a day of the program leaves: Rosa accepted the notice, passed the check and saw her
    payments; Adriana accepted and then revoked; the shared phone wrote BAJA (stored, recorded,
    its confirmation waiting in the outbox for a sender); Rosa's next message is stored but the
    broker never confirmed it (only PostgreSQL has it). Returns that message's sid and number."""
    rosa = accepted(Phone(ROSA))
    rosa.send("ask_payment_status", "cuando me pagan")
    assert "$" in rosa.send("inform_number", "8204")
    with session_scope(url) as session:
        record_consent(session, ADRIANA, True)
        revoke(session, ADRIANA)
        baja = message(SHARED, "BAJA")
        assert inbound_work.store_in_sequence(session, baja, PARTITION) is not None
        confirmation = turns.record_opt_of(session, baja)
        enqueue_replies(
            session,
            medium="sms",
            phone=SHARED,
            to_address=SHARED,
            texts=[confirmation],
            in_reply_to=baja.message_sid,
        )
        mark_inbound(session, baja.message_sid, "processed")
        stored = inbound_work.store_in_sequence(session, message(ROSA, "y mi factura?"), PARTITION)
        assert stored is not None
    return stored.message_sid, stored.farmer_seq


@pytest.fixture(scope="module")
def databases() -> Iterator[dict[str, str]]:
    """Four fresh databases: the source program's and tracker store, and the two to restore into."""
    admin = postgres_admin_url()
    if admin is None:
        pytest.skip(
            "PostgreSQL is not reachable at TEST_POSTGRES_URL (the backups are of PostgreSQL databases)"
        )
    made = {role: fresh_postgres(admin, "pp_backup") for role in ("program", "tracker", "new", "new_tracker")}
    yield {role: url for role, (url, _drop) in made.items()}
    for _url, drop in made.values():
        drop()


@pytest.fixture(scope="module")
def backup(databases, tmp_path_factory) -> Backup:
    program, tracker = databases["program"], databases["tracker"]
    upgrade(program)
    with session_scope(program) as session:
        seed_demo(session, ANCHOR)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", program)
        waiting, sequence = _state_that_matters(program)
    _talk_in_tracker(tracker)
    state = _state(program)

    folders = tmp_path_factory.mktemp("backups")
    done = _run("backup.sh", program=program, tracker=tracker, BACKUP_DIR=str(folders))
    assert done.returncode == 0, done.stderr
    folder = Path(done.stdout.strip())
    assert folder.parent == folders and re.fullmatch(r"\d{4}-\d\d-\d\dT\d{6}Z", folder.name)
    assert sorted(path.name for path in folder.iterdir()) == ["SHA256SUMS", "program.dump", "tracker.dump"]
    assert folder.stat().st_mode & 0o077 == 0  # personal data: only the backup's own user reads it
    return Backup(program, tracker, folder, state, _events(tracker), waiting, sequence)


def _payment_answer(url: str) -> str:
    """Rosa asks in a new conversation (no slots): what the assistant answers from this database."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        return Phone(ROSA).send("ask_payment_status", "cuando me pagan")


def test_a_backup_restored_into_fresh_databases_answers_the_farmer_as_the_source_did(backup, databases):
    new, new_tracker = databases["new"], databases["new_tracker"]
    done = _run("restore.sh", str(backup.folder), program=new, tracker=new_tracker)
    assert done.returncode == 0, done.stderr
    revision, counts = _state(new)
    assert (revision, counts) == backup.state and revision  # same schema revision, same rows everywhere
    assert f"Alembic revision {revision[0]}" in done.stdout
    assert counts["farmers"] == 360 and counts["invoices"] > 0 and counts["consents"] >= 3
    assert _events(new_tracker) == backup.events  # the conversation, in Rasa's tracker store

    with session_scope(new) as session, session_scope(backup.program) as source:
        assert has_consented(session, ROSA) and is_revoked(session, ADRIANA) and is_opted_out(session, SHARED)
        assert opted_out_since(session, SHARED) == opted_out_since(source, SHARED)
        assert pending_outbox_count(session) == pending_outbox_count(source) == 1  # the BAJA confirmation

    # Rosa's consent and check code came back with the database: no notice, no code asked; and the
    # same answer as the source gives, each invoice in it as the source's records describe it
    answer = _payment_answer(new)
    assert answer == _payment_answer(backup.program)
    assert "Aviso de privacidad" not in answer and "últimos 4 números" not in answer
    with session_scope(backup.program) as source:
        rosa = farmers_for_phone(source, ROSA)[0]
        shown = [describe(i) for i in recent_invoices(source, rosa.id, limit=6) if f"{i.folio}:" in answer]
    assert shown and all(line in answer for line in shown), answer

    # RabbitMQ is not backed up: the message it never confirmed is recovered from PostgreSQL, and
    # the farmer's next message gets the next number in her sequence
    with session_scope(new) as session:
        claimed = inbound_claims.claim_due(
            session, "restore-check", [PARTITION], 30, inbound_claims.Grace(0, 0)
        )
        assert claimed == [backup.waiting]
        assert inbound_work.next_seq(session, ROSA) == backup.sequence + 1


def test_restore_refuses_a_database_that_is_not_empty_unless_told_to_replace_it(backup, databases):
    program, tracker = databases["program"], databases["tracker"]
    with session_scope(program) as session:  # a change after the backup
        record_consent(session, "+524431000099", True)
    before = _state(program)

    refused = _run("restore.sh", str(backup.folder), program=program, tracker=tracker)
    assert refused.returncode == 3 and "DATABASE_URL names is not empty" in refused.stderr
    assert _state(program) == before

    replaced = _run("restore.sh", str(backup.folder), "--replace", program=program, tracker=tracker)
    assert replaced.returncode == 0, replaced.stderr
    assert _state(program) == backup.state  # what was written after the backup is gone
    assert _events(tracker) == backup.events
