"""What the production mode's units of work cost the process that runs them, on PostgreSQL: a
worker's three around a Rasa turn (``work_and_pending``, ``takeover.start``, ``turns.finish``
with two replies) and a sender's around a send (its share of a claim of 50, the check before the
send, the send recorded; no Twilio request), on a fresh database of their own. Prints client CPU
milliseconds and statements a turn and a send, twice each; run it on two revisions (a worktree of
the older one) to compare them (bench/README.md, "Units of work").

    .venv/bin/python bench/units_of_work.py [--url postgresql://postgres@127.0.0.1:5432/postgres] [--turns 400]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, event, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DATABASE = "bench_units_of_work"
REPLIES = ["Su pago de la entrega 1234 sale el viernes.", "¿Le ayudo con algo más? Escriba MENU."]


def fresh_database(admin_url: str) -> tuple[str, Callable[[], None]]:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{DATABASE}"'))

    def drop() -> None:
        from bot.db import engine_for

        engine_for(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        admin.dispose()

    url = admin_url.rsplit("/", 1)[0] + f"/{DATABASE}"
    return url, drop


def measured(label: str, run: Callable[[], int], statements: list[int]) -> None:
    """Runs ``run`` (which returns how many it did) and prints its cost each."""
    before, cpu = statements[0], time.process_time()
    count = run()
    cpu_ms = (time.process_time() - cpu) / count * 1000
    print(f"{label}: {cpu_ms:.2f} ms CPU, {(statements[0] - before) / count:.1f} statements each ({count})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--url", default=os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--turns", type=int, default=400, help="turns (and sends) measured, each time")
    args = parser.parse_args()
    url, drop = fresh_database(args.url)
    os.environ["DATABASE_URL"] = url
    try:
        run(url, args.turns)
    finally:
        drop()


def run(url: str, turns_measured: int) -> None:
    from bot.db import engine, session_scope
    from bot.messaging import dispatch, inbound_claims, inbound_work, outbox_claims, turns
    from bot.messaging.config import TwilioSettings
    from bot.messaging.inbound import Inbound
    from bot.messaging.sender import SendResult, TwilioSender
    from bot.records.migrate import upgrade
    from bot.worker import takeover
    from tests.production.support import message as sms_from

    upgrade(url)
    statements = [0]

    def counted(*_args: object) -> None:
        statements[0] += 1

    event.listen(engine(), "before_cursor_execute", counted)
    settings = TwilioSettings(
        account_sid="AC" + "0" * 32,
        auth_token="bench",
        whatsapp_from="whatsapp:+14155238886",
        sms_from="+15005550006",
        public_base_url="http://127.0.0.1:9",
        sends_per_second=1_000_000.0,
    )
    sender = TwilioSender(settings)
    lease = dispatch.lease_seconds(settings)

    def inbound(number: int) -> Inbound:
        return sms_from(f"+5215{uuid.uuid4().int % 10**9:09d}{number % 10}", "cuando me pagan")

    def turn(message: Inbound) -> None:
        with session_scope() as session:
            inbound_claims.work_and_pending(session, message.message_sid)
        with session_scope() as session:
            start, _ = takeover.start(session, message.message_sid, "bench", 60, 20, None)
        with session_scope() as session:
            turns.finish(session, start.work, "bench", REPLIES)

    def send_all() -> int:
        sends = 0
        while True:
            with session_scope() as session:
                items = outbox_claims.claim_due_outbox(session, 50, lease)
            if not items:
                return sends
            sends += len(items)
            for item in items:
                with session_scope() as session:
                    gate = dispatch._gate(session, sender, item, lease)
                assert gate.stopped is None
                sent = SendResult(True, 1, sid=f"SM{uuid.uuid4().hex}", status="queued")
                with session_scope() as session:
                    dispatch._record(session, item, sent, settings)

    for _ in range(2):
        messages = [inbound(number) for number in range(turns_measured + 20)]
        with session_scope() as session:
            inbound_work.store_all_in_sequence(session, [(message, 0) for message in messages])
        for message in messages[:20]:  # warm: statements compiled, connections open
            turn(message)
        send_all()

        def worker_turns(batch: list[Inbound] = messages[20:]) -> int:
            for message in batch:
                turn(message)
            return len(batch)

        measured("worker, a turn's three units of work", worker_turns, statements)
        measured("sender, a send's claim share, check and record", send_all, statements)


if __name__ == "__main__":
    main()
