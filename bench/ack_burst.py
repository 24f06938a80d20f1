"""How fast the webhook gateways answer a burst, with nothing else running: the gateways alone on
private PostgreSQL, RabbitMQ and Redis (bench/production_stack.py), no worker and no sender, and
``--at-once`` signed webhooks from as many phones posted together, ``--bursts`` times. It prints,
for each burst, the acknowledgement p95 as the phones saw it; then the median of those; the
gateways' own histogram of their answers (``gateway_ack_seconds``, from a request's arrival in
the gateway to its answer); how many connections the gateways opened to PostgreSQL during the
bursts (``pg_stat_database.sessions``); and how many webhooks a gateway stored in one unit of
work on average (``gateway_webhooks_stored_together``). Not part of `make test`; about a minute.

    .venv/bin/python bench/ack_burst.py [--gateways 2] [--at-once 100] [--bursts 8]

It isolates the first figure of `make bench-load` (acknowledgement p95 at 100 farmers writing at
once), where the gateways share the cores with the workers turning the same messages.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import aiohttp
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from twilio.request_validator import RequestValidator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.channels_bench import percentile
from bench.load import log, metric
from bench.load_phones import WEBHOOK, signed_webhook
from bench.production_stack import Production, current_model
from tests.production.processes import AUTH_TOKEN

BUCKETS = ("0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "+Inf")


async def burst(urls: list[str], at_once: int, number: int) -> list[float]:
    """``at_once`` webhooks from as many phones, posted together to the gateways in turn; the
    seconds each took to be answered."""
    validator = RequestValidator(AUTH_TOKEN)
    posts = [
        (
            urls[n % len(urls)] + WEBHOOK,
            *signed_webhook(validator, f"+5244390{number:02d}{n:03d}", "hola", f"SM{uuid.uuid4().hex}"),
        )
        for n in range(at_once)
    ]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

        async def one(url: str, data: str, headers: dict[str, str]) -> float:
            started = time.perf_counter()
            async with http.post(url, data=data, headers=headers) as answer:
                await answer.read()
                if answer.status != 200:
                    raise RuntimeError(f"webhook answered {answer.status}")
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--gateways", type=int, default=2)
    parser.add_argument("--at-once", type=int, default=100)
    parser.add_argument("--bursts", type=int, default=8)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="pp-ack-"))
    folder.chmod(0o755)  # the postgres OS user goes through it to its cluster
    try:
        with ExitStack() as stack:
            prod = Production(folder, current_model(), stack, prefix="ack")
            log(f"starting private PostgreSQL, RabbitMQ and Redis in {folder}")
            prod.services()
            prod.start_gateways(args.gateways)
            asyncio.run(burst(prod.gateways, 20, 99))  # warm-up: connections, caches
            before = sessions_opened(prod.database_url)
            p95s = []
            for number in range(args.bursts):
                p95s.append(percentile(asyncio.run(burst(prod.gateways, args.at_once, number)), 95))
                time.sleep(0.5)
            opened = sessions_opened(prod.database_url) - before - 1
            answers = histogram(prod.gateways)
            together = stored_together(prod.gateways)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"gateways: {args.gateways}; webhooks at once: {args.at_once}; bursts: {args.bursts}")
    print("ack p95 of each burst (ms):", " ".join(f"{p95 * 1000:.0f}" for p95 in p95s))
    print(f"median of those: {statistics.median(p95s) * 1000:.0f} ms")
    print("gateways' answers by time (cumulative):", ", ".join(f"≤{b} s {n}" for b, n in answers.items()))
    print(f"connections opened to PostgreSQL during the bursts: {opened}")
    print(f"webhooks stored in one unit of work: {together:.1f} on average")
    return 0


if __name__ == "__main__":
    sys.exit(main())
