"""Senders' shared pace against Twilio's per-sender rate (bot/messaging/pacing.py): several sender
processes push a burst of SMS (one and two billed parts) and WhatsApp messages from one sender
each to the Twilio stand-in, which enforces a rate limit with 429s the way Twilio does. Two
scenarios in the same run, on the same stand-in and database:

    unpaced   TWILIO_SENDS_PER_SECOND=0: every process sends as fast as it can (the baseline)
    paced     TWILIO_SENDS_PER_SECOND at --headroom of the limit, shared through the database

For each: messages taken, units (SMS parts; one a WhatsApp message), 429s, the most units the
stand-in took from one sender in any one-second window, and the throughput in units/s; the
paced throughput is also given as a ratio of the limit. Rates are measured at the stand-in in
real seconds. Needs nothing running (it starts the stand-in; a SQLite database in a temporary
directory unless --database-url names one, e.g. the PostgreSQL of production):

    .venv/bin/python bench/pacing_bench.py --processes 4 --messages 400 --limit 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.messaging.config import TwilioSettings  # noqa: E402
from bot.messaging.sender import TwilioSender  # noqa: E402
from bot.records.migrate import upgrade  # noqa: E402
from bot.stack import free_port  # noqa: E402

ACCOUNT, TOKEN = "ACbench", "bench-token"
ONE_PART = "Su pago esta programado. Escriba PAGOS para ver el detalle."
TWO_PARTS = "Su factura esta retenida: falta el XML del CFDI. " * 4  # 200 GSM-7 characters


def _body(n: int) -> tuple[str, str]:
    """Message n's medium and body: two SMS of one part, one of two parts, one WhatsApp."""
    return [("sms", ONE_PART), ("sms", ONE_PART), ("sms", TWO_PARTS), ("whatsapp", TWO_PARTS)][n % 4]


async def _send_share(api: str, per_second: float, first: int, count: int) -> None:
    settings = TwilioSettings(
        account_sid=ACCOUNT,
        auth_token=TOKEN,
        whatsapp_from="whatsapp:+14155238886",
        sms_from="+15005550006",
        api_base=api,
        send_timeout=10,
        status_callbacks=False,
        sends_per_second=per_second,
    )
    sender = TwilioSender(settings)
    try:
        gate = asyncio.Semaphore(8)  # sends at once in this process, as a sender process has

        async def one(n: int) -> None:
            medium, body = _body(n)
            to = f"+52443{n:07d}"
            async with gate:
                await sender.send(
                    medium=medium,
                    to_address=f"whatsapp:{to}" if medium == "whatsapp" else to,
                    body=body,
                    attempts=1,
                )

        await asyncio.gather(*(one(n) for n in range(first, first + count)))
    finally:
        await sender.close()


def _http(method: str, url: str, data: dict | None = None) -> dict:
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(
        url, data=body, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read().decode())


def _busiest_second(records: list[dict]) -> dict[str, int]:
    """Per sender, the most units the stand-in took in any one-second window."""
    by_sender: dict[str, list[tuple[float, int]]] = {}
    for m in records:
        units = 1 if m["to"].startswith("whatsapp:") else max(1, m["num_segments"])
        by_sender.setdefault(m["from"] or m["messaging_service_sid"], []).append((m["received_at"], units))
    busiest = {}
    for sender, taken in by_sender.items():
        taken.sort()
        busiest[sender] = max(sum(u for at, u in taken if start <= at < start + 1.0) for start, _ in taken)
    return busiest


def _scenario(
    name: str, api: str, env: dict[str, str], per_second: float, limit: float, processes: int, messages: int
) -> dict:
    _http("POST", f"{api}/_standin/control", {"reset": True, "rate_limit": limit})
    share = messages // processes
    started = time.monotonic()
    workers = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", api, str(per_second), str(p * share), str(share)], env=env
        )
        for p in range(processes)
    ]
    for worker in workers:
        worker.wait(600)
    elapsed = time.monotonic() - started
    state = _http("GET", f"{api}/_standin/messages")
    records = state["messages"]
    units = sum(1 if m["to"].startswith("whatsapp:") else max(1, m["num_segments"]) for m in records)
    times = [m["received_at"] for m in records]
    span = (max(times) - min(times)) if len(times) > 1 else elapsed
    return {
        "scenario": name,
        "sends_per_second": per_second,
        "messages": len(records),
        "of": share * processes,
        "units": units,
        "rate_limited": state["rate_limited"],
        "busiest_second": _busiest_second(records),
        "seconds": round(span, 2),
        "units_per_second": round(units / span, 1) if span else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--limit", type=float, default=50, help="the stand-in's rate per sender (units/s)")
    parser.add_argument("--headroom", type=float, default=0.9, help="the pace, as a share of the limit")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        api, per_second, first, count = args.worker
        asyncio.run(_send_share(api, float(per_second), int(first), int(count)))
        return 0
    work = Path(tempfile.mkdtemp(prefix="pacing-bench-"))
    database_url = args.database_url or f"sqlite:///{work / 'program.db'}"
    upgrade(database_url)
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    standin = subprocess.Popen(
        [sys.executable, "-m", "bot.twilio_standin.server", "--port", str(port), "--auth-token", TOKEN],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    env = dict(
        os.environ, DATABASE_URL=database_url, PYTHONWARNINGS="ignore", SQLALCHEMY_SILENCE_UBER_WARNING="1"
    )
    try:
        for _ in range(100):
            try:
                _http("GET", f"{api}/_standin/health")
                break
            except OSError:
                time.sleep(0.1)
        results = [
            _scenario("unpaced", api, env, 0, args.limit, args.processes, args.messages),
            _scenario(
                "paced", api, env, args.limit * args.headroom, args.limit, args.processes, args.messages
            ),
        ]
    finally:
        standin.terminate()
        standin.wait(10)
    print(
        f"{args.processes} sender processes, {args.messages} messages, stand-in limit {args.limit:g} units/s per sender"
    )
    print("| scenario | pace (units/s) | taken | units | 429s | busiest second per sender | units/s |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        busiest = ", ".join(f"{k}: {v}" for k, v in sorted(r["busiest_second"].items()))
        print(
            f"| {r['scenario']} | {r['sends_per_second'] or 'off'} | {r['messages']} of {r['of']} | {r['units']} "
            f"| {r['rate_limited']} | {busiest} | {r['units_per_second']} |"
        )
    paced = results[1]
    max_rate = max(paced["busiest_second"].values(), default=0)
    print(
        f"pacing: {paced['messages']} sent of {paced['of']}, max rate {max_rate}/s (limit {args.limit:g}), "
        f"429s {paced['rate_limited']} (unpaced: {results[0]['rate_limited']})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
