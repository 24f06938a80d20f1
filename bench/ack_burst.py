"""How fast the webhook gateways answer a burst, with nothing else running: the gateways alone on
private PostgreSQL, RabbitMQ and Redis (bench/production_stack.py), no worker and no sender, and
``--at-once`` signed webhooks from as many phones posted together, ``--bursts`` times for each
client (``--clients``): ``raw``, each webhook on a connection of its own posted with asyncio's
streams (bench/raw_http.py), as bench-load's phones post them; ``aiohttp``, aiohttp's client,
its connections kept; ``raw,aiohttp``, the two in turn.

For each client it prints each burst's acknowledgement p95 as the phones saw it, their median,
and the CPU milliseconds a burst took in each kind of process, the phones' own (this process)
included: two cores give 100 ms of CPU in the 50 ms the target allows. Then the gateways' own
histogram of their answers (``gateway_ack_seconds``, from a request's arrival in the gateway to
its answer), how many connections the gateways opened to PostgreSQL during the bursts
(``pg_stat_database.sessions``), how many webhooks a gateway stored in one unit of work on
average (``gateway_webhooks_stored_together``), and the gateways' full garbage collections during
the bursts (``python_gc_pause_seconds``, bot/heap.py). Not part of `make test`; about a minute a client.

    .venv/bin/python bench/ack_burst.py [--gateways 2] [--at-once 100] [--bursts 8] [--clients raw]

It isolates the first figure of `make bench-load` (acknowledgement p95 at 100 farmers writing at
once), where the gateways share the cores with the workers turning the same messages.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from contextlib import ExitStack
from functools import partial
from pathlib import Path

import aiohttp
import uvloop
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from twilio.request_validator import RequestValidator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.channels_bench import percentile
from bench.cpu import CpuMeter
from bench.load import log, metric, postmaster_pid
from bench.load_phones import WEBHOOK, signed_webhook
from bench.production_stack import Production, current_model
from bench.raw_http import post
from tests.production.processes import AUTH_TOKEN

BUCKETS = ("0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "+Inf")


async def _aiohttp_post(http: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]):
    async with http.post(url, data=body, headers=headers) as answer:
        return answer.status, await answer.read()


async def burst(urls: list[str], at_once: int, number: int, client: str = "raw") -> list[float]:
    """``at_once`` webhooks from as many phones, posted together to the gateways in turn, each on
    a connection of its own with asyncio's streams (``raw``, as bench-load's phones post them) or
    with aiohttp's client (``aiohttp``, connections kept); the seconds each took to be answered."""
    validator = RequestValidator(AUTH_TOKEN)
    posts = [
        (
            urls[n % len(urls)] + WEBHOOK,
            *signed_webhook(validator, f"+5244390{number:02d}{n:03d}", "hola", f"SM{uuid.uuid4().hex}"),
        )
        for n in range(at_once)
    ]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        send = post if client == "raw" else partial(_aiohttp_post, http)

        async def one(url: str, data: str, headers: dict[str, str]) -> float:
            started = time.perf_counter()
            status, _ = await send(url, data.encode(), headers)
            if status != 200:
                raise RuntimeError(f"webhook answered {status}")
            return time.perf_counter() - started

        return list(await asyncio.gather(*(one(*each) for each in posts)))


def sessions_opened(database_url: str) -> int:
    """Connections PostgreSQL has accepted since it started, in every database (this one counted)."""
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT sum(sessions) FROM pg_stat_database")).scalar_one())
    finally:
        engine.dispose()


def histogram(urls: list[str]) -> dict[str, int]:
    """The gateways' answers, cumulative, by upper bound in seconds (warm-up included)."""
    return {
        bound: int(sum(metric(url, f'gateway_ack_seconds_bucket{{le="{bound}"}}') for url in urls))
        for bound in BUCKETS
    }


def stored_together(urls: list[str]) -> float:
    """Webhooks a gateway stored in one unit of work, on average (warm-up included)."""
    stored = sum(metric(url, "gateway_webhooks_stored_together_sum") for url in urls)
    return stored / max(1.0, sum(metric(url, "gateway_webhooks_stored_together_count") for url in urls))


def full_collections(urls: list[str]) -> tuple[float, float]:
    """The gateways' full garbage collections so far: how many, and the seconds they took."""
    sample = 'python_gc_pause_seconds_{}{{generation="2"}}'
    return (
        sum(metric(url, sample.format("count")) for url in urls),
        sum(metric(url, sample.format("sum")) for url in urls),
    )


def own_cpu() -> float:
    """CPU seconds this process (the phones) has used."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_meter(prod: Production) -> CpuMeter:
    meter = CpuMeter()
    for proc in prod.gateway_procs:
        meter.watch("gateways", proc.pid)
    meter.watch("database", postmaster_pid(prod))
    meter.watch("broker", prod.rabbit.proc.pid)
    return meter


def timed_burst(prod: Production, meter: CpuMeter, at_once: int, number: int, client: str):
    """One burst's p95 and the CPU it took by kind of process (its publishes and marks included:
    the half second after it is counted with it)."""
    meter.start()
    phones = own_cpu()
    p95 = percentile(asyncio.run(burst(prod.gateways, at_once, number, client)), 95)
    time.sleep(0.5)
    return p95, {**meter.stop(), "phones": own_cpu() - phones}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--gateways", type=int, default=2)
    parser.add_argument("--at-once", type=int, default=100)
    parser.add_argument("--bursts", type=int, default=8, help="bursts of each client")
    parser.add_argument("--clients", default="raw", help="raw, aiohttp or both (raw,aiohttp): in turn")
    args = parser.parse_args(argv)
    uvloop.install()  # the phones' loop, as the gateways' (Sanic's)
    clients = args.clients.split(",")
    p95s: dict[str, list[float]] = {client: [] for client in clients}
    cpu: dict[str, dict[str, float]] = {client: defaultdict(float) for client in clients}
    folder = Path(tempfile.mkdtemp(prefix="pp-ack-"))
    folder.chmod(0o755)  # the postgres OS user goes through it to its cluster
    try:
        with ExitStack() as stack:
            prod = Production(folder, current_model(), stack, prefix="ack")
            log(f"starting private PostgreSQL, RabbitMQ and Redis in {folder}")
            prod.services()
            prod.start_gateways(args.gateways)
            for warm_up in (98, 99):  # the gateways' connections to PostgreSQL opened, caches filled
                asyncio.run(burst(prod.gateways, args.at_once, warm_up))
            before, meter = sessions_opened(prod.database_url), cpu_meter(prod)
            collections = full_collections(prod.gateways)
            for number in range(args.bursts * len(clients)):
                client = clients[number % len(clients)]
                p95, used = timed_burst(prod, meter, args.at_once, number, client)
                p95s[client].append(p95)
                for kind, seconds in used.items():
                    cpu[client][kind] += seconds
            opened = sessions_opened(prod.database_url) - before - 1
            count, seconds = (
                b - a for a, b in zip(collections, full_collections(prod.gateways), strict=True)
            )
            answers = histogram(prod.gateways)
            together = stored_together(prod.gateways)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"gateways: {args.gateways}; webhooks at once: {args.at_once}; bursts: {args.bursts} a client")
    for client in clients:
        print(f"{client}: ack p95 of each burst (ms):", " ".join(f"{p95 * 1000:.0f}" for p95 in p95s[client]))
        print(f"{client}: median of those: {statistics.median(p95s[client]) * 1000:.0f} ms")
        each = {kind: seconds * 1000 / args.bursts for kind, seconds in cpu[client].items()}
        used = ", ".join(f"{kind} {ms:.0f}" for kind, ms in each.items())
        print(f"{client}: CPU a burst (ms): {used} (all {sum(each.values()):.0f})")
    print("gateways' answers by time (cumulative):", ", ".join(f"≤{b} s {n}" for b, n in answers.items()))
    print(f"connections opened to PostgreSQL during the bursts: {opened}")
    print(f"webhooks stored in one unit of work: {together:.1f} on average")
    print(
        f"the gateways' full garbage collections during the bursts: {count:.0f}, {seconds * 1000:.0f} ms in all"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
