"""How long a notice's turn takes through Rasa, against the path `make bench-notices` runs: the
figure behind the choice in bench/results/notices.md.

    .venv/bin/python bench/notices_rasa_turns.py --model models/<name>.tar.gz --turns 200

It makes a database of its own (pp_bench_notices_rasa, and pp_bench_notices_rasa_tracker for
Rasa's conversations; both dropped after), inserts enough farmers (bench/notices_farmers.py) for
2 x --turns notices, and releases a broadcast's notices with the scheduler's own functions (no
backlog limit) at an hour when it is day everywhere. Then, one turn after the other as one
worker runs them:

- --turns notices (and 5 before them to warm the model up) through the Rasa worker's assistant
  (bot.worker.rasa_turns.load_assistant: the model, the SQL tracker store on PostgreSQL, a Redis
  lock store on a private redis-server on a spare port, and the action server, ``python -m
  bot.action_server``, which runs the notice's action over HTTP);
- --turns other notices through bench/notices_worker.NoticeTurns (the notice handler
  in-process).

It prints each path's time per turn (mean, p50, p95; the first 5 Rasa turns, which warm the
model up, left out) and the turns a second that makes on one worker. Needs nothing running.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from contextlib import ExitStack
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from bench.chaos_services import private_redis, python  # noqa: E402
from bench.notices_farmers import CLOCK_START, generate, insert_farmers  # noqa: E402
from bench.notices_worker import NoticeTurns  # noqa: E402
from bot.db import engine_for, session_scope  # noqa: E402
from bot.messaging import notices  # noqa: E402
from bot.messaging.inbound import Inbound  # noqa: E402
from bot.records import broadcasts  # noqa: E402
from bot.records.migrate import upgrade  # noqa: E402
from bot.stack import free_port  # noqa: E402
from bot.worker.config import WorkerSettings  # noqa: E402
from tests.production.processes import wait_ready  # noqa: E402

DATABASE = "pp_bench_notices_rasa"
WARM_UP = 5
DAYTIME = CLOCK_START + timedelta(hours=3)  # 18:10 UTC: 10:10 in Baja California, 13:10 in Cancún


def databases(admin_url: str, stack: ExitStack) -> tuple[str, str]:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    urls = []
    for name in (DATABASE, f"{DATABASE}_tracker"):
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin_url.rsplit("/", 1)[0] + f"/{name}"

        def drop(name: str = name, url: str = url) -> None:
            engine_for(url).dispose()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

        stack.callback(drop)
        urls.append(url)
    return urls[0], urls[1]


def released_notices(url: str, farmers: int) -> list[Inbound]:
    """A broadcast to the farmers, planned and released as the scheduler does (the embedded
    store: each notice stored as the farmer's next message)."""
    with session_scope(url) as s:
        insert_farmers(s, generate(farmers), DAYTIME)
        broadcast = broadcasts.compose(
            s, "Mañana no hay recolección.", broadcasts.Audience(), "oficial", DAYTIME
        )
        broadcasts.decide(s, broadcast, True, "admin", DAYTIME)
    # no backlog limit: these notices' turns are run below, after they are all released
    settings = replace(notices.NoticeSettings(), backlog=farmers)
    released: list[Inbound] = []
    with session_scope(url) as s:
        notices.plan(s, DAYTIME, settings)
    while True:
        with session_scope(url) as s:
            batch = notices.release_round(s, settings, DAYTIME, notices.store_embedded).released
        if not batch:
            return released
        released.extend(batch)


async def timed(assistant: object, messages: list[Inbound]) -> list[float]:
    seconds = []
    for message in messages:
        began = time.perf_counter()
        result = await assistant.turn(message, retried=False)  # type: ignore[attr-defined]
        seconds.append(time.perf_counter() - began)
        if result.failure or not result.replies:
            raise RuntimeError(f"turn {message.message_sid} failed: {result.failure}")
    return seconds


def summary(name: str, seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    mean = statistics.fmean(ordered)
    return (
        f"{name}: {len(ordered)} turns, mean {mean * 1000:.0f} ms, p50 {statistics.median(ordered) * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms: {1 / mean:.0f} turns/s on one worker"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="bench-notices-rasa-"))
    try:
        with ExitStack() as stack:
            url, tracker_url = databases(args.postgres_url, stack)
            with warnings.catch_warnings():  # alembic's note on its own configuration
                warnings.simplefilter("ignore", DeprecationWarning)
                upgrade(url)
            os.environ["DATABASE_URL"] = url  # the notice handler's sessions, in this process
            wanted = 2 * args.turns + WARM_UP  # about 85% of generated farmers get the broadcast
            messages = released_notices(url, int(wanted / 0.8))[:wanted]
            redis, redis_url = private_redis(folder, folder)
            stack.callback(redis.stop)
            port, token = free_port(), secrets.token_hex(16)
            env = dict(
                os.environ, ACTION_SERVER_TOKEN=token, ALLOW_LOCAL_CREDENTIALS="1", PYTHONWARNINGS="ignore"
            )
            actions = python("actions", ["bot.action_server", "--port", str(port)], env, folder).start()
            stack.callback(actions.stop)
            assert actions.process is not None
            wait_ready(f"http://127.0.0.1:{port}/health", actions.process, actions.log, 120)
            settings = WorkerSettings.from_env(
                {
                    "TRACKER_DATABASE_URL": tracker_url,
                    "REDIS_URL": redis_url,
                    "ACTION_SERVER_URL": f"http://127.0.0.1:{port}/webhook",
                    "ACTION_SERVER_TOKEN": token,
                }
            )
            from rasa.utils.log_utils import configure_structlog

            from bot.worker.rasa_turns import load_assistant

            configure_structlog(logging.ERROR)  # as bot.worker does: Rasa's debug lines off

            began = time.perf_counter()
            rasa = load_assistant(args.model, settings)
            stack.callback(rasa.close)
            print(f"model loaded in {time.perf_counter() - began:.0f} s; {len(messages)} notices released")
            through_rasa = asyncio.run(timed(rasa, messages[: args.turns + WARM_UP]))[WARM_UP:]
            in_process = NoticeTurns()
            stack.callback(in_process.threads.shutdown)
            without_rasa = asyncio.run(timed(in_process, messages[args.turns + WARM_UP :]))
        print(summary("through Rasa (model, tracker store, lock, action server)", through_rasa))
        print(summary("the notice handler in-process (make bench-notices)", without_rasa))
        return 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
