"""`make bench-load`: the production mode under load, against Rasa's REST channel, in one run.

    .venv/bin/python bench/load.py [--farmers 500] [--rate 4] [--at-once 100] [--model ...]

It brings up private PostgreSQL, RabbitMQ and Redis, the Twilio stand-in and the action server
(bench/production_stack.py, production's timings), then runs four modes one after the other on
the same model and the same cores, each with farmers of its own (bench/load_farmers.py):

  rest       Rasa's REST channel (``rasa run``, PostgreSQL tracker store, the same action server)
  rest, Rasa fixed  the same on Rasa with bot/rasa_fixes.py, as the workers run it (the
             like-for-like reference, the farmers at once only; the targets are against Rasa
             as it is)
  1 worker   two gateways, one Rasa worker, the sender
  2 workers  the same and a second worker (the partitions shared between them)

and in each mode two loads (bench/load_phones.py): ``at once``, the given number of farmers all
starting together, each message sent when the one before is answered (the load the issue first
measured with bench-channels); then ``arrivals``, N farmers arriving at the given rate, each
reading an answer for 2 s before writing again. Every farmer runs one of the standard journeys
(first contact and a payment with the check code, a payment, trainings near me, quality and
calibre) and is counted as arrived when the answers hold what the journey asked for.

For each mode and load it reports replies per second, reply latency p50/p95/p99 (from the moment
the phone sends to the moment the last reply of that message reached the stand-in; REST: the
request's time), acknowledgement p95 (what Twilio waits for; REST: the whole turn), CPU seconds
per reply of each kind of process (gateway, worker, action server, sender, broker, Redis,
database; REST: Rasa, action server, database), each worker's share of the turns, errors, lost
and duplicates (counted as `make chaos` counts them: what the stand-in received, linked to the
message it answers), and the issue's targets. The sender's pace is lifted to 1,000 units a second
(production: 10 a second a sender, Twilio's limit, not a cost of ours; a program that sends more
uses a Messaging Service with more numbers). Writes bench/results/load.md and .json; exit code 1
when a target is missed. Everything it starts is stopped, its folder deleted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import uvloop
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.channels_bench import percentile  # noqa: E402
from bench.chaos_count import NOTES, Sent, linked_records, tally  # noqa: E402
from bench.chaos_services import Proc  # noqa: E402
from bench.cpu import CpuMeter  # noqa: E402
from bench.load_farmers import LoadFarmer, farmers_for, insert_farmers  # noqa: E402
from bench.load_phones import Gateways, Inbox, RestChannel, Said, run_farmers  # noqa: E402
from bench.pg_statements import SHOWN_IN_REPORT, DatabaseWork, StatementMeter  # noqa: E402
from bench.production_stack import Production, current_model  # noqa: E402
from bot.db import session_scope  # noqa: E402
from bot.records.migrate import create_database_if_missing  # noqa: E402
from bot.stack import BIN, RASA, endpoints_for, free_port  # noqa: E402
from tests.conversations.facts import norm  # noqa: E402

RESULTS = ROOT / "bench" / "results"
THINK = 2.0  # seconds an arriving farmer reads an answer before writing again
SETTLE = 60.0  # seconds a load waits after its farmers for answers still on their way
WARM_UP = 8  # farmers whose journeys warm a mode's model up first (not counted)
SETTINGS = {"TWILIO_SENDS_PER_SECOND": "1000", "NOTICE_INTERVAL": "3600"}
# The targets.
MAX_ACK_P95 = 0.050
MAX_REPLY_RATIO = 1.2
MAX_CPU_RATIO = 1.2
# Rasa's REST channel on Rasa with bot/rasa_fixes.py, as the workers run it: the like-for-like
# reference. The targets are against "rest", Rasa as it is.
FIXED_REST = "rest, Rasa fixed"
REFERENCES = ("rest", FIXED_REST)


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


@dataclass
class Figures:
    mode: str
    load: str
    farmers: int
    messages: int = 0
    answered: int = 0
    arrived: int = 0  # journeys whose answers hold what they asked for
    errors: int = 0  # requests not taken (not 200)
    lost: int = 0
    duplicates: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    acks: list[float] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)
    shares: dict[str, int] = field(default_factory=dict)
    database: DatabaseWork = field(default_factory=DatabaseWork)

    @property
    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    def cpu_per_reply(self) -> dict[str, float]:
        return {kind: self.per_reply(seconds) for kind, seconds in self.cpu.items()}

    @property
    def cpu_total(self) -> float:
        return sum(self.cpu_per_reply().values())

    def row(self) -> dict:
        return {
            "mode": self.mode,
            "load": self.load,
            "farmers": self.farmers,
            "messages": self.messages,
            "answered": self.answered,
            "journeys_arrived": self.arrived,
            "errors": self.errors,
            "lost": self.lost,
            "duplicates": self.duplicates,
            "replies_per_second": round(self.rate, 2),
            **{f"reply_p{q}": round(percentile(self.latencies, q), 3) for q in (50, 95, 99)},
            "ack_p95": round(percentile(self.acks, 95), 4),
            "cpu_seconds_per_reply": {kind: round(v, 4) for kind, v in self.cpu_per_reply().items()},
            "cpu_seconds_per_reply_total": round(self.cpu_total, 4),
            "worker_turns": self.shares,
            "database_per_reply": {
                "transactions": round(self.per_reply(self.database.transactions), 2),
                "statements": round(self.per_reply(self.database.statements), 2),
                "most_run": [[round(self.per_reply(calls), 2), query] for calls, query in self.database.top],
            },
        }

    def per_reply(self, amount: float) -> float:
        return amount / max(1, self.answered)


# -- one load ---------------------------------------------------------------------------------------


class Mode:
    """One way of serving the farmers: its channel, how it counts and which processes it runs."""

    name = ""

    def __init__(self, prod: Production, meter: CpuMeter, statements: StatementMeter):
        self.prod, self.meter, self.statements = prod, meter, statements

    async def channel(self, http: aiohttp.ClientSession):
        raise NotImplementedError

    async def settle(self, said: list[Said]) -> int:
        """Waits for answers still on their way, links them to what they answer; returns how many
        messages the farmers received that answer nothing they sent (strays)."""
        return 0

    def worker_turns(self) -> dict[str, int]:
        return {}


class Rest(Mode):
    """Rasa's REST channel, as ``rasa`` runs it; ``fixed``: on Rasa with bot/rasa_fixes.py, as the
    workers run it (the like-for-like comparison; the targets are against Rasa as it is)."""

    def __init__(self, prod: Production, meter: CpuMeter, statements: StatementMeter, fixed: bool = False):
        super().__init__(prod, meter, statements)
        self.fixed = fixed
        self.name = FIXED_REST if fixed else "rest"

    def start(self) -> None:
        database = "pp_rest_fixed_tracker" if self.fixed else "pp_rest_tracker"
        tracker = self.prod.pg.url(database)
        create_database_if_missing(tracker)
        folder = self.prod.folder
        endpoints = yaml.safe_load(endpoints_for(self.prod.actions_port))
        endpoints["tracker_store"] = {
            "type": "SQL",
            "dialect": "postgresql",
            "url": "127.0.0.1",
            "port": self.prod.pg.port,
            "db": database,
            "username": "postgres",
        }
        (folder / "endpoints.rest.yml").write_text(yaml.safe_dump(endpoints))
        (folder / "credentials.rest.yml").write_text("rest:\n")
        self.port = free_port()
        rasa = RASA if self.fixed else [str(BIN / "rasa")]
        argv = [*rasa, "run", "-m", self.prod.model, "-i", "127.0.0.1", "--port", str(self.port)]
        argv += ["--credentials", str(folder / "credentials.rest.yml")]
        argv += ["--endpoints", str(folder / "endpoints.rest.yml")]
        self.rasa = Proc("rasa-rest", argv, self.prod.env, self.prod.logs).start()
        self.rasa.wait_ready(f"http://127.0.0.1:{self.port}/", 300)
        self.meter.watch("rasa", self.rasa.pid)

    def stop(self) -> None:
        self.rasa.stop()

    async def channel(self, http: aiohttp.ClientSession):
        return RestChannel(f"http://127.0.0.1:{self.port}")


class Workers(Mode):
    def __init__(self, prod: Production, meter: CpuMeter, statements: StatementMeter, workers: int):
        super().__init__(prod, meter, statements)
        self.name = f"{workers} worker{'s' if workers > 1 else ''}"

    async def channel(self, http: aiohttp.ClientSession):
        inbox = Inbox(self.prod.client.url, http)
        await inbox.start_at_end()
        self.poller = asyncio.create_task(inbox.run())
        return Gateways(self.prod.gateways, inbox)

    async def settle(self, said: list[Said]) -> int:
        self.poller.cancel()
        deadline = time.monotonic() + SETTLE
        taken = [s for s in said if s.status == 200]
        strays = link_replies(said, self.prod)
        while time.monotonic() < deadline and any(s.answered_at is None for s in taken):
            await asyncio.sleep(1.0)
            strays = link_replies(said, self.prod)
        return strays

    def worker_turns(self) -> dict[str, int]:
        return {
            worker: worker_metric(self.prod.worker_ports[worker], 'worker_turns_total{outcome="answered"}')
            for worker in self.prod.workers
        }


def metric(base_url: str, sample: str) -> float:
    """One sample of a process's /metrics (name and labels as Prometheus prints them); 0 if absent."""
    with urllib.request.urlopen(f"{base_url}/metrics", timeout=5) as answer:
        for line in answer.read().decode().splitlines():
            if line.rsplit(" ", 1)[0] == sample:
                return float(line.split()[-1])
    return 0.0


def worker_metric(port: int, sample: str) -> int:
    return int(metric(f"http://127.0.0.1:{port}", sample))


def link_replies(said: list[Said], prod: Production) -> int:
    """Each message's replies as the stand-in received them, linked as `make chaos` links them
    (bench/chaos_count.py); returns the strays: messages to these farmers' phones that answer
    none of their messages."""
    by_sid = {s.sid: s for s in said}
    for s in said:
        s.answers, s.answered_at = [], None
    phones, strays = {s.farmer.phone for s in said}, 0
    for record, ref in linked_records(prod.client, prod.database_url):
        s = by_sid.get(ref or "")
        if s is None:
            strays += record["to"] in phones
        elif record["body"] not in NOTES:
            s.answers.append(record["body"])
            s.answered_at = max(s.answered_at or 0.0, record["received_at"])
    return strays


async def run_load(
    mode: Mode, load: str, farmers: list[LoadFarmer], rate: float | None, think: float
) -> Figures:
    figures = Figures(mode.name, load, len(farmers))
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        channel = await mode.channel(http)
        turns_before = mode.worker_turns()
        mode.statements.start()
        mode.meter.start()
        began = time.time()
        said = await run_farmers(channel, farmers, rate, think)
        strays = await mode.settle(said)
        figures.cpu = mode.meter.stop()
        figures.database = mode.statements.stop()
    count(figures, said, began)
    figures.duplicates += strays
    figures.shares = {w: n - turns_before.get(w, 0) for w, n in mode.worker_turns().items()}
    return figures


def count(figures: Figures, said: list[Said], began: float) -> None:
    figures.messages = len(said)
    answered = [s for s in said if s.answered_at is not None]
    figures.answered = len(answered)
    figures.errors = sum(1 for s in said if s.status != 200)
    figures.latencies = [s.answered_at - s.started for s in answered if s.answered_at]
    figures.acks = [s.ack for s in said if s.ack is not None and s.status == 200]
    figures.seconds = max((s.answered_at or 0.0 for s in said), default=began) - began
    by_farmer: dict[str, list[Said]] = {}
    for s in said:
        by_farmer.setdefault(s.farmer.phone, []).append(s)
    figures.arrived = sum(
        1
        for turns in by_farmer.values()
        if turns[0].farmer.reached(norm(" ".join(a for t in turns for a in t.answers)))
    )
    sent = [Sent(s.farmer.phone, "sms", s.body, s.sid, s.order, s.status) for s in said]
    counted = tally(sent, {s.sid: s.answers for s in said})
    figures.lost, figures.duplicates = counted.lost, counted.duplicates


# -- the run ----------------------------------------------------------------------------------------


def watch_services(meter: CpuMeter, prod: Production) -> None:
    meter.watch("action server", prod.actions.pid)
    meter.watch("database", postmaster_pid(prod))


def watch_production(meter: CpuMeter, prod: Production) -> None:
    for proc in prod.gateway_procs:
        meter.watch("gateway", proc.pid)
    for proc in prod.workers.values():
        meter.watch("worker", proc.pid)
    meter.watch("sender", prod.sender.pid)
    meter.watch("broker", prod.rabbit.proc.pid)
    meter.watch("redis", prod.redis.pid)


def postmaster_pid(prod: Production) -> int:
    return int((prod.pg.dir / "data" / "postmaster.pid").read_text().split()[0])


def run_mode(
    mode: Mode, farmers: list[LoadFarmer], warm: list[LoadFarmer], args, arrivals: bool = True
) -> list[Figures]:
    """The mode's loads: at once, then (``arrivals``) the arrivals."""
    log(f"{mode.name}: warming up with {len(warm)} farmers")
    asyncio.run(run_load(mode, "warm-up", warm, None, 0.0))
    results = []
    at_once, arriving = farmers[: args.at_once], farmers[args.at_once :]
    loads = [("at once", at_once, None, 0.0), ("arrivals", arriving, args.rate, THINK)]
    for load, group, rate, think in loads if arrivals else loads[:1]:
        log(f"{mode.name}: {load}, {len(group)} farmers")
        figures = asyncio.run(run_load(mode, load, group, rate, think))
        log(f"{mode.name}: {load}: {json.dumps(figures.row())}")
        results.append(figures)
    return results


def wait_partitions_shared(prod: Production, seconds: float = 120) -> None:
    """Until every worker consumes some of the partitions (a new worker takes its share)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        owned = [worker_metric(port, "worker_partitions_owned") for port in prod.worker_ports.values()]
        if all(owned) and sum(owned) >= prod.broker.partitions:
            return
        time.sleep(1.0)
    raise RuntimeError(f"the partitions were not shared in {seconds:.0f} s")


def run(args) -> int:
    began = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="pp-load-"))
    folder.chmod(0o755)  # the postgres OS user goes through it to its cluster
    figures: list[Figures] = []
    try:
        with ExitStack() as stack:
            prod = Production(folder, args.model, stack, SETTINGS, prefix="load", track_statements=True)
            log(f"starting private PostgreSQL, RabbitMQ and Redis in {folder}")
            prod.support()
            statements = StatementMeter(prod.pg.url())
            stack.callback(statements.close)
            total = args.at_once + args.farmers
            with session_scope(prod.database_url) as session:
                for mode_number in (1, 2, 3, 4):
                    insert_farmers(session, farmers_for(mode_number, total))
                    insert_farmers(session, farmers_for(mode_number + 5, WARM_UP))
            rest_meter = CpuMeter()
            watch_services(rest_meter, prod)
            rest = Rest(prod, rest_meter, statements)
            rest.start()
            figures += run_mode(rest, farmers_for(1, total), farmers_for(6, WARM_UP), args)
            rest.stop()
            fixed = Rest(prod, rest_meter, statements, fixed=True)
            fixed.start()
            # at once only: the run stays within about 10 minutes
            figures += run_mode(fixed, farmers_for(4, args.at_once), farmers_for(9, WARM_UP), args, False)
            fixed.stop()
            prod.start_workers(1)
            prod.start_gateways(2)
            prod.start_sender()
            meter = CpuMeter()
            watch_services(meter, prod)
            watch_production(meter, prod)
            one = Workers(prod, meter, statements, 1)
            figures += run_mode(one, farmers_for(2, total), farmers_for(7, WARM_UP), args)
            second = prod.new_worker()
            prod.wait_worker(second)
            wait_partitions_shared(prod)
            meter.watch("worker", prod.workers[second].pid)
            two = Workers(prod, meter, statements, 2)
            figures += run_mode(two, farmers_for(3, total), farmers_for(8, WARM_UP), args)
    finally:
        if args.keep_logs and (folder / "logs").exists():
            shutil.rmtree(args.keep_logs, ignore_errors=True)
            shutil.copytree(folder / "logs", args.keep_logs)
        shutil.rmtree(folder, ignore_errors=True)
    seconds = time.monotonic() - began
    header = {
        "farmers": f"{args.at_once} at once, then {args.farmers} arriving {args.rate}/s",
        "model": Path(args.model).name,
        "run": f"{seconds:.0f} s",
    }
    return report(figures, header, args.output_stem)


# -- the report -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    what: str
    figure: str
    met: bool


def targets(figures: list[Figures]) -> list[Target]:
    rest = {f.load: f for f in figures if f.mode == "rest"}
    found = []
    for f in figures:
        if f.mode in REFERENCES or f.load == "warm-up":
            continue
        base = rest[f.load]
        if f.load == "at once":
            ack = percentile(f.acks, 95)
            found.append(
                Target(f"{f.mode}, at once: ack p95 ≤ 50 ms", f"{ack * 1000:.1f} ms", ack <= MAX_ACK_P95)
            )
        reply = percentile(f.latencies, 95) / percentile(base.latencies, 95)
        cpu = f.cpu_total / base.cpu_total
        found += [
            Target(f"{f.mode}, {f.load}: reply p95 ≤ 1.2× REST", f"{reply:.2f}×", reply <= MAX_REPLY_RATIO),
            Target(f"{f.mode}, {f.load}: CPU per reply ≤ 1.2× REST", f"{cpu:.2f}×", cpu <= MAX_CPU_RATIO),
        ]
    for f in figures:
        found.append(
            Target(
                f"{f.mode}, {f.load}: lost 0, duplicates 0",
                f"{f.lost}, {f.duplicates}",
                not f.lost and not f.duplicates,
            )
        )
    return found


def ratios(figures: list[Figures]) -> list[list[str]]:
    """Each production load's reply p95 and CPU per reply against both REST references."""
    base = {(f.mode, f.load): f for f in figures if f.mode in REFERENCES}
    rows = [["mode", "load", *(f"{what} / {ref}" for what in ("reply p95", "CPU") for ref in REFERENCES)]]
    for f in figures:
        if f.mode in REFERENCES or f.load == "warm-up":
            continue
        refs = [base.get((ref, f.load)) for ref in REFERENCES]
        reply = [percentile(f.latencies, 95) / percentile(r.latencies, 95) if r else None for r in refs]
        cpu = [f.cpu_total / r.cpu_total if r else None for r in refs]
        rows.append([f.mode, f.load, *("-" if x is None else f"{x:.2f}×" for x in reply + cpu)])
    return rows


def table(rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    return lines + ["| " + " | ".join(row) + " |" for row in rows[1:]]


def most_run(figures: list[Figures]) -> list[str]:
    """The statements run most often per reply, in each mode's first load (at once; the JSON has more)."""
    lines = []
    for f in figures:
        if f.load != "at once":
            continue
        rows = [["per reply", "statement"]]
        rows += [
            [f"{f.per_reply(calls):.2f}", f"`{query.replace('|', '/')}`"]
            for calls, query in f.database.top[:SHOWN_IN_REPORT]
        ]
        lines += [f"Most run, {f.mode}, {f.load}:", "", *table(rows), ""]
    return lines


def report(figures: list[Figures], header: dict[str, str], stem: str) -> int:
    found = targets(figures)
    kinds = sorted({kind for f in figures for kind in f.cpu})
    main = [
        [
            "mode",
            "load",
            "farmers",
            "messages",
            "answered",
            "journeys arrived",
            "replies/s",
            "reply p50",
            "p95",
            "p99",
            "ack p95",
            "CPU s/reply",
            "errors",
            "lost",
            "duplicates",
        ]
    ]
    for f in figures:
        main.append(
            [
                f.mode,
                f.load,
                str(f.farmers),
                str(f.messages),
                str(f.answered),
                str(f.arrived),
                f"{f.rate:.1f}",
                *(f"{percentile(f.latencies, q):.2f} s" for q in (50, 95, 99)),
                f"{percentile(f.acks, 95) * 1000:.1f} ms",
                f"{f.cpu_total:.3f}",
                str(f.errors),
                str(f.lost),
                str(f.duplicates),
            ]
        )
    cpu = [["mode", "load", *kinds]]
    for f in figures:
        per = f.cpu_per_reply()
        cpu.append([f.mode, f.load, *(f"{per[k]:.3f}" if k in per else "" for k in kinds)])
    database = [["mode", "load", "transactions/reply", "statements/reply"]]
    for f in figures:
        database.append(
            [
                f.mode,
                f.load,
                f"{f.per_reply(f.database.transactions):.1f}",
                f"{f.per_reply(f.database.statements):.1f}",
            ]
        )
    shares = [["mode", "load", "worker", "turns", "share"]]
    for f in figures:
        total = sum(f.shares.values())
        for worker, turns in sorted(f.shares.items()):
            shares.append([f.mode, f.load, worker, str(turns), f"{turns / total:.0%}" if total else "-"])
    lines = [
        "# bench-load",
        "",
        *(f"- {k}: {v}" for k, v in header.items()),
        "",
        "Reply latency: from the phone's send to the last reply of that message at the Twilio "
        "stand-in (REST: the request). Ack: the webhook's answer (REST: the whole turn).",
        "",
        *table(main),
        "",
        f"## Against the REST channel, on Rasa as it is and on Rasa as the workers run it ({FIXED_REST})",
        "",
        *table(ratios(figures)),
        "",
        "## CPU seconds per reply, by kind of process",
        "",
        *table(cpu),
        "",
        "## The database's work per reply",
        "",
        "Transactions committed and statements run (pg_stat_statements), every process and database.",
        "",
        *table(database),
        "",
        *most_run(figures),
        "## Each worker's share of the turns",
        "",
        *table(shares),
        "",
        "## Targets",
        "",
        *table(
            [["target", "figure", "met"]] + [[t.what, t.figure, "yes" if t.met else "**no**"] for t in found]
        ),
    ]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{stem}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (RESULTS / f"{stem}.json").write_text(
        json.dumps({"header": header, "figures": [f.row() for f in figures]}, indent=1), encoding="utf-8"
    )
    for line in table(main):
        print(line)
    missed = [t for t in found if not t.met]
    print(f"targets: {len(found) - len(missed)} of {len(found)} met; bench/results/{stem}.md")
    return 1 if missed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="models/<name>.tar.gz (default: the current one)")
    parser.add_argument("--farmers", type=int, default=500, help="farmers arriving, per mode")
    parser.add_argument("--rate", type=float, default=4.0, help="farmers arriving a second")
    parser.add_argument("--at-once", type=int, default=100, help="farmers starting together, per mode")
    parser.add_argument("--output-stem", default="load")
    parser.add_argument("--keep-logs", metavar="DIR", help="copy the processes' logs there")
    args = parser.parse_args(argv)
    if args.at_once + args.farmers > 10000:
        parser.error("at most 10,000 farmers a mode")
    args.model = args.model or current_model()
    uvloop.install()  # the phones' loop, as the gateways' and Rasa's (Sanic's)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, interrupted)
    try:
        return run(args)
    except KeyboardInterrupt:
        print("interrupted: everything it started is stopped, its folder deleted", file=sys.stderr)
        return 130


def interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    raise SystemExit(main())
