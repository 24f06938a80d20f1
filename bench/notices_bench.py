"""`make bench-notices` (issue 14): a broadcast to 10,000 generated farmers, with a payment run in
the middle of it, through production's notice scheduler, workers and senders to the Twilio
stand-in, which enforces Twilio's per-sender rate with 429s; the scheduler SIGKILLed once and
started again.

    .venv/bin/python bench/notices_bench.py --farmers 10000 --limit 50

What it starts, on this machine's PostgreSQL (a database of its own, dropped after) and RabbitMQ
(an exchange and queues of its own, deleted after), each a real process in a group of its own:

- the Twilio stand-in, with ``rate_limit`` per sender and the two approved templates registered;
- production's notice scheduler (bench/notices_scheduler.py: ``bot.messaging.notice_loop.main``
  on a clock this bench controls), on deploy/production.env.example's settings (a round every
  5 s, 100 notices to a unit of work, quiet 21:00-09:00) and WhatsApp's default limit of 250 new
  users a day; ``--notice-interval`` changes the first;
- two workers: by default bench/notices_worker.py (production's Worker; a notice's turn runs
  the assistant's notice handler in-process, no model); with ``--turns rasa`` production's
  ``python -m bot.worker`` on the model, with the action server, a tracker database of its own
  and a private redis-server (bench/results/notices.md says which and why);
- two sender processes (``python -m bot.messaging.send_loop``), paced together at
  ``--headroom`` of the limit (``TWILIO_SENDS_PER_SECOND``) through the database.

The farmers (bench/notices_farmers.py) are inserted in bulk: every phone consented; 5% answered
no to news (no broadcast for them), 4% said BAJA, 19% live where it is still night at the
controlled time (their notices wait for 09:00, and are not counted as due); one in a hundred
shares a phone. An officer composes the broadcast for everyone and an admin approves it; then
the scheduler starts. When --kill-at of the broadcast is released, the scheduler gets SIGKILL
and is started again at once. When the stand-in holds --payments-at of the broadcast, --payments
farmers' invoices change (scheduled, paid, on hold, rejected) in one unit of work.

The controlled clock decides what is due and what falls in quiet hours: it starts at
bench/notices_farmers.CLOCK_START and runs with the real one. Rates are real seconds at the
stand-in: per sender, the most units (SMS parts; a WhatsApp message is one) in any one-second
window. A payment notice's delay is from the start of the unit of work that changed the invoice
to the stand-in taking the notice. The last line:

    notices: N sent of M due, max rate R/s (limit L), 429s K, to opted-out 0, in quiet hours 0,
    duplicates 0, payment notice max delay D s

Exit code 1 when a target is missed: every due notice sent exactly once and nothing else sent,
no second over the limit, no 429, nothing to a number that said BAJA or where it is night, a
payment notice's delay at most 60 s, the scheduler's records as the rules say, the run under 10
minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import shutil
import signal
import sys
import tempfile
import time
import warnings
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import and_, case, func, select  # noqa: E402

from bench.chaos_services import Proc, private_redis, python  # noqa: E402
from bench.notices_farmers import (  # noqa: E402
    CLOCK_START,
    QUIET_END,
    QUIET_START,
    Expected,
    GeneratedFarmer,
    change_invoices,
    choose_payments,
    expected,
    generate,
    insert_farmers,
    phones_of,
    quiet,
)
from bench.production_stack import current_model  # noqa: E402
from bot.db import session_scope  # noqa: E402
from bot.messaging.broker import BrokerSettings  # noqa: E402
from bot.messaging.schema import OutboundMessage, PartitionLease  # noqa: E402
from bot.phones import try_normalize_phone  # noqa: E402
from bot.records import broadcasts  # noqa: E402
from bot.records.migrate import upgrade  # noqa: E402
from bot.records.notice_schema import Broadcast, Notice  # noqa: E402
from bot.replies.catalog import render  # noqa: E402
from bot.stack import free_port  # noqa: E402
from bot.twilio_standin.client import StandinClient  # noqa: E402
from tests.databases import fresh_postgres  # noqa: E402
from tests.production.rabbit import delete_topology  # noqa: E402

DATABASE = "pp_bench_notices"
ACCOUNT, TOKEN = "ACbench", "bench-token"
SMS_FROM, WHATSAPP_FROM = "+15005550006", "whatsapp:+14155238886"
# The approved Content templates, registered at the stand-in: the assistant's own sentences with
# {{n}} for the variables (docs/twilio.md, Notices).
TEMPLATES = {
    "BROADCAST": ("HX" + "b0" * 16, render("notice_broadcast", text="{{1}}")),
    "PAYMENT": ("HX" + "a0" * 16, render("notice_payment", folio="{{1}}", what="{{2}}")),
}
# What the officer wrote: with the program's heading and the way out of news, one SMS part.
BROADCAST_TEXT = "El centro de acopio abrirá de 7 a 15 h la próxima semana. Traiga su credencial."
# What the Makefile exports for every target: Rasa's and TensorFlow's start-up noise kept down.
QUIET_LIBRARIES = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "LOG_LEVEL_LIBRARIES": "ERROR",
    "RASA_TELEMETRY_ENABLED": "false",
}
MAX_PAYMENT_DELAY = 60.0
RUN_BOUND = 540.0  # seconds after the start: no more waiting for notices (the run stays under 10 min)
SETTLE = 10.0  # after the last due notice, this long for anything sent twice or sent late
FOLIO = re.compile(r"\bF-\d+\b")


def log(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)


def subject_of(body: str) -> str:
    """What a message the stand-in took is about: "broadcast", an invoice's folio, or "other"."""
    if body.startswith("Mensaje del programa"):
        return "broadcast"
    found = FOLIO.search(body)
    return found.group(0) if found else "other"


def kind_of(subject: str) -> str:
    return subject if subject in ("broadcast", "other") else "payment"


def medium_of(record: dict[str, Any]) -> str:
    return "whatsapp" if record["to"].startswith("whatsapp:") else "sms"


def units_of(record: dict[str, Any]) -> int:
    return 1 if record["to"].startswith("whatsapp:") else max(1, int(record["num_segments"]))


def busiest_second(records: list[dict[str, Any]]) -> dict[str, int]:
    """Per sender, the most units the stand-in took in any one-second window."""
    by_sender: dict[str, list[tuple[float, int]]] = {}
    for m in records:
        by_sender.setdefault(m["from"] or m["messaging_service_sid"], []).append(
            (m["received_at"], units_of(m))
        )
    busiest: dict[str, int] = {}
    for sender, taken in by_sender.items():
        taken.sort()
        best, window, first = 0, 0, 0
        for at, units in taken:
            window += units
            while taken[first][0] <= at - 1.0:
                window -= taken[first][1]
                first += 1
            best = max(best, window)
        busiest[sender] = best
    return busiest


# -- the services ------------------------------------------------------------------------------


def wait_partitions(url: str, workers: list[Proc], partitions: int, seconds: float = 90) -> None:
    """Until the live workers hold every partition between them, each some."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for proc in workers:
            if not proc.running:
                raise RuntimeError(f"{proc.name} exited:\n{proc.log.read_text(errors='replace')[-3000:]}")
        with session_scope(url) as s:
            held = dict(
                s.execute(
                    select(PartitionLease.worker_id, func.count())
                    .where(PartitionLease.lease_until > func.now(), PartitionLease.worker_id.is_not(None))
                    .group_by(PartitionLease.worker_id)
                ).all()
            )
        if len(held) == len(workers) and sum(held.values()) == partitions:
            return
        time.sleep(0.5)
    raise RuntimeError("the workers did not take the partitions")


def start_workers(
    args: argparse.Namespace, env: dict[str, str], folder: Path, logs: Path, stack: ExitStack
) -> list[Proc]:
    """The workers: production's (``python -m bot.worker``: Rasa on the model, its tracker store
    on a database of its own, a private Redis for its locks, the action server), or with
    ``--turns handler`` bench/notices_worker.py (the notice handler in-process, no model)."""
    workers = []
    if args.turns == "handler":
        for n in range(1, args.workers + 1):
            worker = python(
                f"worker{n}", ["bench.notices_worker"], dict(env, WORKER_ID=f"bench-worker{n}"), logs
            )
            stack.callback(worker.stop)
            workers.append(worker.start())
        return workers
    tracker_url, drop = fresh_postgres(args.postgres_url, name=f"{DATABASE}_tracker")
    stack.callback(drop)
    redis, redis_url = private_redis(folder, logs)
    stack.callback(redis.stop)
    actions_port = free_port()
    env.update(
        TRACKER_DATABASE_URL=tracker_url,
        REDIS_URL=redis_url,
        ACTION_SERVER_URL=f"http://127.0.0.1:{actions_port}/webhook",
        ACTION_SERVER_TOKEN=secrets.token_hex(16),
    )
    actions = python("actions", ["bot.action_server", "--port", str(actions_port)], env, logs).start()
    stack.callback(actions.stop)
    ports = []
    for n in range(1, args.workers + 1):
        ports.append(free_port())
        worker_env = dict(env, WORKER_ID=f"bench-worker{n}", WORKER_HTTP_PORT=str(ports[-1]))
        worker = python(f"worker{n}", ["bot.worker", "--model", args.model], worker_env, logs)
        stack.callback(worker.stop)
        workers.append(worker.start())
    actions.wait_ready(f"http://127.0.0.1:{actions_port}/health", 120)
    for worker, port in zip(workers, ports, strict=True):
        worker.wait_ready(f"http://127.0.0.1:{port}/readyz", 240)
    log(f"{len(workers)} Rasa workers ready on {Path(args.model).name}")
    return workers


def released_broadcasts(url: str) -> int:
    with session_scope(url) as s:
        return int(
            s.execute(
                select(func.count()).where(Notice.kind == "broadcast", Notice.status == "released")
            ).scalar_one()
        )


# -- the run -----------------------------------------------------------------------------------


@dataclass
class Run:
    """What happened, in real epoch seconds."""

    real_start: float
    received: list[dict[str, Any]]
    rate_limited: int
    killed_at: float | None = None
    released_at_kill: int = 0
    changed_at: float | None = None
    all_due_at: float | None = None
    records: dict[str, Any] | None = None

    def controlled(self, real: float) -> datetime:
        return CLOCK_START + timedelta(seconds=real - self.real_start)


def records_of(url: str, real_start: float) -> dict[str, Any]:
    """What the scheduler and the senders recorded. A scheduled notice is "held" when it is due
    later than the controlled clock's now (waiting for the morning), "scheduled" when it is due
    and not released yet."""
    now = CLOCK_START + timedelta(seconds=time.time() - real_start)
    with session_scope(url) as s:
        state = case((and_(Notice.status == "scheduled", Notice.due_at > now), "held"), else_=Notice.status)
        statuses = Counter(
            {
                (kind, status): n
                for kind, status, n in s.execute(
                    select(Notice.kind, state, func.count()).group_by(Notice.kind, state)
                )
            }
        )
        routes = Counter(
            {
                (kind, route): n
                for kind, route, n in s.execute(
                    select(Notice.kind, Notice.route, func.count())
                    .where(Notice.status == "released")
                    .group_by(Notice.kind, Notice.route)
                )
            }
        )
        last_release = s.execute(
            select(func.max(Notice.released_at)).where(Notice.kind == "broadcast")
        ).scalar_one()
        waiting_until = s.execute(
            select(func.min(Notice.due_at)).where(Notice.status == "scheduled", Notice.due_at > now)
        ).scalar_one()
        planned = s.execute(select(Broadcast.planned)).scalar_one()
        outbound = dict(
            s.execute(select(OutboundMessage.status, func.count()).group_by(OutboundMessage.status)).all()
        )
    return {
        "statuses": statuses,
        "routes": routes,
        "last_release_real": (
            real_start + (last_release - CLOCK_START).total_seconds() if last_release else None
        ),
        "waiting_until": waiting_until,
        "planned": planned,
        "outbound": outbound,
    }


def run(
    args: argparse.Namespace, farmers: list[GeneratedFarmer], folder: Path, stack: ExitStack
) -> tuple[Run, Expected]:
    logs = folder / "logs"
    logs.mkdir()
    url, drop = fresh_postgres(args.postgres_url, name=DATABASE)
    stack.callback(drop)
    with warnings.catch_warnings():  # alembic's note on its own configuration, not ours to act on
        warnings.simplefilter("ignore", DeprecationWarning)
        upgrade(url)
    broker = BrokerSettings(url=args.rabbitmq_url, partitions=16, prefix=f"pp.bench.{os.getpid()}")
    stack.callback(lambda: asyncio.run(delete_topology(broker)))

    payments = choose_payments(farmers, args.payments)
    expect = expected(farmers, payments, CLOCK_START)
    started = time.monotonic()
    with session_scope(url) as s:
        insert_farmers(s, farmers, datetime.now(CLOCK_START.tzinfo))
    phones = phones_of(farmers)
    log(
        f"{len(farmers)} farmers on {len(phones)} phones inserted in {time.monotonic() - started:.1f} s; "
        f"due {len(expect.due)}, waiting for the morning {len(expect.waiting)}, opted out {len(expect.opted_out)}"
    )

    standin_port = free_port()
    api = f"http://127.0.0.1:{standin_port}"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "NOTICE_", "SENDER_", "WORKER_"))
    }
    env.update(
        DATABASE_URL=url,
        RABBITMQ_URL=broker.url,
        INBOUND_PARTITIONS=str(broker.partitions),
        INBOUND_QUEUE_PREFIX=broker.prefix,
        ALLOW_LOCAL_CREDENTIALS="1",  # this machine's PostgreSQL on trust and RabbitMQ's guest
        TWILIO_ACCOUNT_SID=ACCOUNT,
        TWILIO_AUTH_TOKEN=TOKEN,
        TWILIO_SMS_FROM=SMS_FROM,
        TWILIO_WHATSAPP_FROM=WHATSAPP_FROM,
        TWILIO_API_BASE=api,
        TWILIO_PUBLIC_BASE_URL="https://bot.example.mx",
        TWILIO_STATUS_CALLBACKS="false",
        TWILIO_SENDS_PER_SECOND=f"{args.limit * args.headroom:g}",
        NOTICE_QUIET_START=str(QUIET_START),
        NOTICE_QUIET_END=str(QUIET_END),
        **{f"NOTICE_TEMPLATE_{kind}": sid for kind, (sid, _text) in TEMPLATES.items()},
        PYTHONWARNINGS="ignore",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
    )
    for name, value in QUIET_LIBRARIES.items():
        env.setdefault(name, value)
    if args.notice_interval is not None:
        env["NOTICE_INTERVAL"] = f"{args.notice_interval:g}"
    standin = python(
        "standin",
        [
            "bot.twilio_standin.server",
            "--port",
            str(standin_port),
            "--account-sid",
            ACCOUNT,
            "--auth-token",
            TOKEN,
        ],
        env,
        logs,
    ).start()
    stack.callback(standin.stop)
    standin.wait_ready(f"{api}/_standin/health", 60)
    client = StandinClient(api)
    client.control(rate_limit=args.limit, templates=dict(TEMPLATES.values()))

    workers = start_workers(args, env, folder, logs, stack)
    for n in range(1, args.senders + 1):
        port = free_port()
        sender = python(f"sender{n}", ["bot.messaging.send_loop", "--health-port", str(port)], env, logs)
        stack.callback(sender.stop)
        sender.start()
        sender.wait_ready(f"http://127.0.0.1:{port}/healthz", 60)
    wait_partitions(url, workers, broker.partitions)

    outcome = Run(real_start=time.time(), received=[], rate_limited=0)
    with session_scope(url) as s:
        broadcast = broadcasts.compose(
            s, BROADCAST_TEXT, broadcasts.Audience(), "oficial.bench", outcome.controlled(time.time())
        )
        broadcasts.decide(s, broadcast, True, "admin.bench", outcome.controlled(time.time()))
    scheduler_argv = ["bench.notices_scheduler", CLOCK_START.isoformat(), repr(outcome.real_start)]
    scheduler = python("scheduler", scheduler_argv, env, logs)
    stack.callback(scheduler.stop)
    scheduler.start()
    log(f"broadcast approved, scheduler started ({time.monotonic() - started:.1f} s after the start)")

    due_broadcasts = expect.of_kind(expect.due, broadcast=True)
    received_keys: set[tuple[str, str]] = set()
    deadline = started + RUN_BOUND
    while time.monotonic() < deadline:
        fresh = client.messages(since=len(outcome.received))
        outcome.received.extend(fresh)
        for m in fresh:
            received_keys.add((try_normalize_phone(m["to"]) or m["to"], subject_of(m["body"])))
        sent_broadcasts = sum(1 for key in received_keys if key[1] == "broadcast" and key in expect.due)
        if outcome.killed_at is None and released_broadcasts(url) >= args.kill_at * due_broadcasts:
            scheduler.kill()
            outcome.killed_at = time.time()
            outcome.released_at_kill = released_broadcasts(url)
            scheduler.start()
            log(
                f"scheduler SIGKILLed with {outcome.released_at_kill} broadcast notices released; started again"
            )
        if outcome.changed_at is None and sent_broadcasts >= args.payments_at * due_broadcasts:
            outcome.changed_at = time.time()
            with session_scope(url) as s:
                change_invoices(s, payments)
            log(f"{len(payments)} invoices changed with {sent_broadcasts} broadcast notices sent")
        if outcome.changed_at is not None and expect.due <= received_keys:
            outcome.all_due_at = time.time()
            log(f"every due notice sent, {outcome.all_due_at - outcome.real_start:.0f} s after the approval")
            break
        if not scheduler.running:
            raise RuntimeError(f"the scheduler exited:\n{scheduler.log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    else:
        log("run bound reached: not every due notice was sent")
    time.sleep(SETTLE)
    outcome.received.extend(client.messages(since=len(outcome.received)))
    outcome.rate_limited = StandinClient(api).rate_limited()
    for proc in [scheduler, *workers]:
        proc.stop()
    outcome.records = records_of(url, outcome.real_start)
    return outcome, expect


# -- the verdict -------------------------------------------------------------------------------


def report(
    args: argparse.Namespace, farmers: list[GeneratedFarmer], outcome: Run, expect: Expected, wall: float
) -> int:
    by_phone = phones_of(farmers)
    phones = len(by_phone)
    opted_out = {number for number, phone in by_phone.items() if phone.opted_out}
    counts: Counter[tuple[str, str]] = Counter()
    first_at: dict[tuple[str, str], float] = {}
    in_quiet = to_opted_out = 0
    for m in outcome.received:
        number = try_normalize_phone(m["to"]) or m["to"]
        key = (number, subject_of(m["body"]))
        counts[key] += 1
        first_at.setdefault(key, m["received_at"])
        phone = by_phone.get(number)
        if number in opted_out:
            to_opted_out += 1
        if phone is not None and quiet(phone.zone, outcome.controlled(m["received_at"])):
            in_quiet += 1
    sent = sum(1 for key in expect.due if counts[key] >= 1)
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    unexpected = sum(n for key, n in counts.items() if key not in expect.due)
    busiest = busiest_second(outcome.received)
    max_rate = max(busiest.values(), default=0)
    delays = sorted(
        first_at[key] - outcome.changed_at
        for key in expect.due
        if key[1] != "broadcast" and key in first_at and outcome.changed_at is not None
    )
    max_delay = delays[-1] if delays else float("nan")
    records = outcome.records or {}
    statuses: Counter[tuple[str, str]] = records.get("statuses", Counter())

    print(
        f"{args.farmers} farmers on {phones} phones; broadcast planned for {records.get('planned')} phones "
        f"(the {phones - expect.unplanned_phones} that want news); {args.payments} invoices changed mid-run"
    )
    for kind in ("broadcast", "payment"):
        is_broadcast = kind == "broadcast"
        print(
            f"  {kind}: due {expect.of_kind(expect.due, is_broadcast)} "
            f"(released {statuses[(kind, 'released')]}), "
            f"waiting for 09:00 {expect.of_kind(expect.waiting, is_broadcast)} "
            f"(held {statuses[(kind, 'held')]}), "
            f"opted out {expect.of_kind(expect.opted_out, is_broadcast)} "
            f"(skipped {statuses[(kind, 'skipped_opt_out')]})"
        )
    routes = ", ".join(
        f"{kind} {route}: {n}" for (kind, route), n in sorted(records.get("routes", {}).items())
    )
    print(f"  routes: {routes}")
    pending = sum(n for (_kind, status), n in statuses.items() if status == "scheduled")
    print(
        f"  due and not released at the end: {pending}; held until {records.get('waiting_until')} at the "
        f"earliest; outbound messages by Twilio's last status: {records.get('outbound')}"
    )
    samples = {(medium_of(m), kind_of(subject_of(m["body"]))): m for m in outcome.received}
    for (medium, kind), m in sorted(samples.items()):
        print(f"  a {kind} notice by {medium}, {units_of(m)} unit(s): {m['body']!r}")
    last_release = records.get("last_release_real")
    if outcome.killed_at is not None:
        print(
            f"scheduler: SIGKILL at {outcome.killed_at - outcome.real_start:.1f} s with "
            f"{outcome.released_at_kill} broadcast notices released, started again; last broadcast notice "
            f"released at {last_release - outcome.real_start if last_release else float('nan'):.1f} s"
        )
    if outcome.changed_at is not None:
        middle = delays[len(delays) // 2] if delays else float("nan")
        print(
            f"payment run at {outcome.changed_at - outcome.real_start:.1f} s: {len(delays)} notices sent, "
            f"delay p50 {middle:.1f} s, max {max_delay:.1f} s"
        )
    times = [m["received_at"] for m in outcome.received]
    span = max(times) - min(times) if len(times) > 1 else 0.0
    units = sum(units_of(m) for m in outcome.received)
    per_sender = ", ".join(f"{sender}: {n}" for sender, n in sorted(busiest.items()))
    print(
        f"stand-in: {len(outcome.received)} messages, {units} units in {span:.1f} s "
        f"({units / span if span else 0:.1f} units/s); busiest second per sender: {per_sender}"
    )
    print(f"wall time {wall:.0f} s (setup, run and clean-up)")

    misses = []
    due = len(expect.due)
    if sent != due:
        misses.append(f"{due - sent} due notices not sent")
    if unexpected:
        misses.append(f"{unexpected} messages that were not due (other: {counts_other(counts)})")
    if max_rate > args.limit:
        misses.append("a second over the limit")
    if outcome.rate_limited:
        misses.append("429s")
    if to_opted_out or in_quiet or duplicates:
        misses.append("sent to an opted-out number, in quiet hours or twice")
    if not delays or max_delay > MAX_PAYMENT_DELAY:
        misses.append(f"payment notice delay over {MAX_PAYMENT_DELAY:.0f} s")
    pending = sum(n for (_kind, status), n in statuses.items() if status == "scheduled")
    if pending:
        misses.append(f"{pending} due notices not released yet when the run ended")
    for kind in ("broadcast", "payment"):
        is_broadcast = kind == "broadcast"
        if pending:
            break  # the counts below are compared once everything due was released
        if (
            statuses[(kind, "released")] != expect.of_kind(expect.due, is_broadcast)
            or statuses[(kind, "held")] != expect.of_kind(expect.waiting, is_broadcast)
            or statuses[(kind, "skipped_opt_out")] != expect.of_kind(expect.opted_out, is_broadcast)
        ):
            misses.append(f"the scheduler's {kind} notices differ from the rules")
    if wall > 600:
        misses.append("over 10 minutes")
    if misses:
        print("missed: " + "; ".join(misses))
    print(
        f"notices: {sent} sent of {due} due, max rate {max_rate}/s (limit {args.limit:g}), "
        f"429s {outcome.rate_limited}, to opted-out {to_opted_out}, in quiet hours {in_quiet}, "
        f"duplicates {duplicates}, payment notice max delay {max_delay:.1f} s"
    )
    return 1 if misses else 0


def counts_other(counts: Counter[tuple[str, str]]) -> int:
    return sum(n for (_phone, subject), n in counts.items() if subject == "other")


def interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--farmers", type=int, default=10000)
    parser.add_argument("--payments", type=int, default=300, help="invoices changed in the middle")
    parser.add_argument("--limit", type=float, default=50, help="the stand-in's rate per sender (units/s)")
    parser.add_argument(
        "--headroom", type=float, default=0.9, help="the senders' pace, as a share of the limit"
    )
    parser.add_argument(
        "--turns",
        choices=("handler", "rasa"),
        default="handler",
        help="handler: the notice handler in-process (no model); rasa: production's Rasa workers",
    )
    parser.add_argument("--model", help="the Rasa workers' model (default: the current one, else the newest)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--senders", type=int, default=2)
    parser.add_argument("--kill-at", type=float, default=0.3, help="share of the broadcast released")
    parser.add_argument("--payments-at", type=float, default=0.4, help="share of the broadcast sent")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help=f"a server to create (and drop) the database {DATABASE} on",
    )
    parser.add_argument("--rabbitmq-url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument(
        "--notice-interval",
        type=float,
        help="NOTICE_INTERVAL for the scheduler (default: production's, 5 s between rounds)",
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs (path printed)")
    args = parser.parse_args(argv)
    if args.turns == "rasa" and not args.model:
        args.model = current_model()
    signal.signal(signal.SIGTERM, interrupted)
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="bench-notices-"))
    try:
        farmers = generate(args.farmers)
        with ExitStack() as stack:
            outcome, expect = run(args, farmers, folder, stack)
        return report(args, farmers, outcome, expect, time.monotonic() - started)
    finally:
        if args.keep_logs:
            log(f"logs kept in {folder / 'logs'}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
