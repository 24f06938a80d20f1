"""`make chaos`: the production mode under faults, with real processes and services.

    .venv/bin/python bench/chaos.py [--model models/<name>.tar.gz]

It brings the production mode up itself in a temporary folder (deleted after): private PostgreSQL,
RabbitMQ and Redis on spare ports (bench/chaos_services.py), the Twilio stand-in, the action
server, two Rasa workers, two webhook gateways and the sender, on shortened timings (a dead
worker's leases move after 6 s instead of 20, heartbeats and recovery rounds every 1 s, failed
turns retried after 2, 4, 8 s). Then, bounded (about 6 minutes, 10 at most), with farmers
posting signed webhooks (bench/chaos_count.py):

  worker-kill     a Rasa worker SIGKILLed while it holds a claimed turn (shown), then replaced
  postgres        the private PostgreSQL stopped (fast) during a burst, started again 3 s later
  rabbitmq        the private RabbitMQ node stopped during a burst, started again
  action-server   the action server stopped for 30 s, then started
  twilio-errors   the stand-in answering 500 for 20 s, then 429 with Retry-After: 3 for 20 s
                  (the issue's minute each, shortened to keep the run bounded)
  same-sid        the same MessageSid posted to both gateways at once
  one-farmer      one farmer sending 10 messages in 2 s, two workers running

It counts what the stand-in received (bench/chaos_count.py says how), prints one line per scenario
and last ``faults: S scenarios, M messages, answered A, lost L, duplicates D, out of order O``.
Everything it started is stopped, also on Ctrl-C or an error. Exit code 1 when L, D or O > 0.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.chaos_count import (  # noqa: E402
    NOTES,
    Ledger,
    Tally,
    in_flight,
    out_of_order,
    received_replies,
    tally,
    unanswered,
)
from bench.production_stack import Production, current_model  # noqa: E402
from bot.worker.rollout import WorkerRef, roll_out  # noqa: E402

WAIT_FOR_REPLIES = 90.0  # seconds a scenario waits for its answers after its last message
SETTLE = 3.0  # then this long for anything sent twice
RUN_BOUND = 570.0  # a scenario is not started past this (the run stays under 10 minutes)
# Production's timings shortened so the run stays bounded (deploy/production.env.example: a turn
# 60 s at most, leases 20 s, beats and recovery rounds 5 s, retries from 5 s up to 2 minutes).
SHORT_TIMINGS = {
    "TWILIO_TURN_TIMEOUT": "30",
    "TICKET_LOCK_LIFETIME": "30",  # a killed worker's Rasa lock no longer than a turn
    "WORKER_LEASE_SECONDS": "6",
    "WORKER_HEARTBEAT_SECONDS": "1",
    "WORKER_RECOVERY_SECONDS": "1",
    "TURN_RETRY_BASE_SECONDS": "2",
    "TURN_RETRY_MAX_SECONDS": "8",
}
BODIES = ["hola", "menu", "gracias", "capacitaciones", "ayuda"]


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# -- scenarios -------------------------------------------------------------------------------------


def farmers(prod: Production, ledger: Ledger, name: str, phones: list[str], count: int, gap: float):
    return [
        ledger.farmer(name, phone, BODIES[:count], gap, "sms" if i % 2 else "whatsapp")
        for i, phone in enumerate(phones)
    ]


def phones(block: int, count: int) -> list[str]:
    return [f"+5244310{block:02d}{i:03d}" for i in range(1, count + 1)]


def join(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(120)


def worker_kill(prod: Production, ledger: Ledger) -> str:
    victim = next(iter(prod.workers))
    threads = farmers(prod, ledger, "worker-kill", phones(1, 6), 3, 0.3)
    deadline, held = time.monotonic() + 30, list[tuple[str, str, str | None]]()
    while time.monotonic() < deadline and not held:
        held = [row for row in in_flight(prod.database_url, victim) if row[1] == "processing"]
        time.sleep(0.01)
    prod.workers.pop(victim).kill()
    replacement = prod.new_worker()
    join(threads)
    prod.wait_worker(replacement)
    return f"killed {victim} holding {held[0][0] if held else 'nothing (no claim seen in 30 s)'} ({len(held)} in flight)"


def postgres_restart(prod: Production, ledger: Ledger) -> str:
    threads = farmers(prod, ledger, "postgres", phones(2, 6), 3, 0.5)
    time.sleep(1.0)
    pending = len(in_flight(prod.database_url))
    prod.pg.stop("fast")
    time.sleep(3)
    prod.pg.start()
    join(threads)
    return f"restarted with {pending} message(s) not done, down 3 s"


def rabbit_restart(prod: Production, ledger: Ledger) -> str:
    threads = farmers(prod, ledger, "rabbitmq", phones(3, 6), 3, 0.5)
    time.sleep(1.0)
    pending = len(in_flight(prod.database_url))
    began = time.monotonic()
    prod.rabbit.stop()
    prod.rabbit.start()
    join(threads)
    return f"restarted with {pending} message(s) not done, down {time.monotonic() - began:.0f} s"


def action_server_down(prod: Production, ledger: Ledger) -> str:
    since = len(prod.client.messages())
    prod.actions.stop()
    threads = farmers(prod, ledger, "action-server", phones(4, 4), 2, 1.0)
    time.sleep(30)
    notes = sum(1 for m in prod.client.messages(since=since) if m["body"] in NOTES)
    prod.actions = prod.start_actions()
    join(threads)
    return f"down 30 s, {notes} note(s) sent meanwhile"


def twilio_errors(prod: Production, ledger: Ledger) -> str:
    before = prod.client.attempts()
    prod.client.control(fail_for=20, fail_status=500, retry_after="")
    threads = farmers(prod, ledger, "twilio-errors", phones(5, 4), 2, 1.0)
    time.sleep(20)
    failed_500 = prod.client.attempts() - before
    prod.client.control(fail_for=20, fail_status=429, retry_after="3")
    time.sleep(20)
    failed_429 = prod.client.attempts() - before - failed_500
    prod.client.control(fail_for=0, fail_status=500, retry_after="")
    join(threads)
    return f"500 for 20 s ({failed_500} sends refused), then 429 Retry-After 3 s for 20 s ({failed_429})"


def same_sid(prod: Production, ledger: Ledger) -> str:
    statuses: list[int] = []

    def twice(phone: str) -> None:
        sid, barrier = "SM" + os.urandom(16).hex(), threading.Barrier(2)

        def post(gateway: int) -> None:
            barrier.wait()
            statuses.append(ledger.send("same-sid", phone, "hola", "sms", sid=sid, gateway=gateway).status)

        both = [threading.Thread(target=post, args=(gateway,)) for gateway in (0, 1)]
        for thread in both:
            thread.start()
        join(both)

    pairs = [threading.Thread(target=twice, args=(phone,)) for phone in phones(6, 5)]
    for thread in pairs:
        thread.start()
    join(pairs)
    return f"5 MessageSids posted to both gateways at once: answers {sorted(set(statuses))}"


def one_farmer(prod: Production, ledger: Ledger) -> str:
    live = [worker_id for worker_id, proc in prod.workers.items() if proc.running]
    words = ["hola", "menu", "1", "2", "gracias", "capacitaciones", "ayuda", "menu", "3", "gracias"]
    began = time.monotonic()
    for index, word in enumerate(words):  # one every 0.2 s, each acknowledged before the next
        time.sleep(max(0.0, began + 0.2 * index - time.monotonic()))
        ledger.send("one-farmer", "+524431007001", word, "whatsapp")
    return f"10 messages in {time.monotonic() - began:.1f} s, workers {', '.join(live)}"


def model_rollout(prod: Production, ledger: Ledger) -> str:
    """A new model across the workers with bot/worker/rollout.py, one at a time, while farmers
    write: the same model's bytes under a new file name, so the workers' /readyz shows the change."""
    new = prod.folder / f"model-rollout-{Path(prod.model).name}"
    shutil.copyfile(prod.model, new)
    threads = farmers(prod, ledger, "model-rollout", phones(8, 6), 4, 2.0)
    refs = [WorkerRef(w, f"http://127.0.0.1:{prod.worker_ports[w]}/readyz") for w in list(prod.workers)]
    said: list[str] = []
    code = roll_out(refs, lambda ref: prod.restart_worker(ref.name), new, prod.model_link, 240, said.append)
    join(threads)
    for line in said:
        log(line)
    return f"exit {code}; {said[-1].removeprefix('rollout: ') if said else 'nothing said'}"


SCENARIOS: list[tuple[str, Callable[[Production, Ledger], str]]] = [
    ("worker-kill", worker_kill),
    ("postgres", postgres_restart),
    ("rabbitmq", rabbit_restart),
    ("action-server", action_server_down),
    ("twilio-errors", twilio_errors),
    ("same-sid", same_sid),
    ("one-farmer", one_farmer),
    ("model-rollout", model_rollout),
]


def await_answers(prod: Production, ledger: Ledger, name: str) -> None:
    deadline = time.monotonic() + WAIT_FOR_REPLIES
    while time.monotonic() < deadline and unanswered(
        ledger.by_scenario[name], prod.client, prod.database_url
    ):
        time.sleep(0.5)
    time.sleep(SETTLE)


def run(model: str, only: list[str], keep_logs: str | None = None) -> int:
    began = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="pp-chaos-"))
    folder.chmod(0o755)  # the postgres OS user goes through it to its cluster
    ran: list[tuple[str, str]] = []
    try:
        with ExitStack() as stack:
            prod = Production(folder, model, stack, SHORT_TIMINGS)
            log(f"starting the production mode in {folder} (private PostgreSQL, RabbitMQ, Redis)")
            prod.up()
            log(
                f"up in {time.monotonic() - began:.0f} s: workers {', '.join(prod.workers)}, gateways {prod.gateways}"
            )
            ledger = Ledger(prod.gateways)
            for name, scenario in SCENARIOS:
                if only and name not in only:
                    continue
                if time.monotonic() - began > RUN_BOUND:
                    log(f"{name}: not run, the run's time bound is reached")
                    continue
                log(f"{name}: running")
                detail = scenario(prod, ledger)
                await_answers(prod, ledger, name)
                ran.append((name, detail))
            replies, strays = received_replies(prod.client, prod.database_url)
            total = Tally()
            for name, detail in ran:
                sent = ledger.by_scenario[name]
                part = tally(sent, replies)
                part.out_of_order = out_of_order(sent, prod.client, prod.database_url)
                total.add(part)
                lost = f" lost {','.join(part.lost_sids)}" if part.lost_sids else ""
                print(
                    f"{name}: {detail}; {part.messages} messages, answered {part.answered}, lost {part.lost}, "
                    f"duplicates {part.duplicates}, out of order {part.out_of_order}, notes {part.notes}{lost}"
                )
            total.duplicates += strays
            log(f"private RabbitMQ node {prod.rabbit.node}; strays {strays}; logs were in {prod.logs}")
    finally:
        if keep_logs and (folder / "logs").exists():
            shutil.rmtree(keep_logs, ignore_errors=True)
            shutil.copytree(folder / "logs", keep_logs)
        shutil.rmtree(folder, ignore_errors=True)
    print(f"run took {time.monotonic() - began:.0f} s; stopped everything and deleted {folder}")
    print(
        f"faults: {len(ran)} scenarios, {total.messages} messages, answered {total.answered}, lost {total.lost}, "
        f"duplicates {total.duplicates}, out of order {total.out_of_order}"
    )
    return 1 if total.lost or total.duplicates or total.out_of_order else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="models/<name>.tar.gz (default: the current one)")
    parser.add_argument("--only", nargs="*", default=[], help="run only these scenarios")
    parser.add_argument(
        "--keep-logs", metavar="DIR", help="copy the processes' logs there before deleting the folder"
    )
    args = parser.parse_args(argv)
    model = args.model or current_model()
    for signum in (signal.SIGINT, signal.SIGTERM):  # SIGINT too where a shell left it ignored
        signal.signal(signum, interrupted)
    try:
        return run(model, args.only, args.keep_logs)
    except KeyboardInterrupt:
        print("interrupted: everything it started is stopped, its folder deleted", file=sys.stderr)
        return 130


def interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # stopped like Ctrl-C: the ExitStack stops everything


if __name__ == "__main__":
    raise SystemExit(main())
