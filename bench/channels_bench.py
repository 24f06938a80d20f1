"""Benchmark: our Twilio channels against Rasa's REST channel, same model, same run.

N simulated farmers write at once, M messages each (bounded: N*M requests per channel). For our
SMS/WhatsApp channel it measures the webhook acknowledgement time (what Twilio waits for) and the
time until the reply reaches the Twilio stand-in; for /webhooks/rest/webhook the request time
(REST holds the request for the whole turn, so acknowledgement = reply). Prints p50/p95 and the
ratios. Loopback only.

Needs a running stack whose channels send to the stand-in, and says so (TWILIO_USE_STANDIN=1):
`make run` without a Twilio account starts exactly that, on 127.0.0.1, then
    TWILIO_USE_STANDIN=1 python bench/channels_bench.py --farmers 20 --messages 3 --auth-token dev-token
(`make bench-channels`). It refuses to run without TWILIO_USE_STANDIN=1. A server with a real
Twilio account refuses its webhooks (signed with the stand-in's dev token) with 403: nothing is
sent through a real account.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.messaging.config import USE_STANDIN
from bot.phones import twilio_address
from bot.twilio_standin.client import StandinClient, signed_post, webhook_params

MESSAGES = ["hola", "¿cuándo me pagan?", "¿qué capacitaciones hay?", "calibre 48", "gracias"]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def channel_farmer(args, index: int, run_id: int) -> list[dict]:
    phone = f"+52443{run_id:03d}{index:04d}"
    address = twilio_address(phone, args.medium)
    standin = StandinClient(args.standin)
    path = f"/webhooks/{args.medium}/webhook"
    results = []
    for turn in range(args.messages):
        seen = len(standin.messages(to=address))
        params = webhook_params(phone, args.medium, MESSAGES[turn % len(MESSAGES)])
        started = time.time()
        status, _, ack = signed_post(
            args.rasa + path,
            params,
            args.auth_token,
            public_url=(args.public_base_url or args.rasa) + path,
            timeout=args.timeout,
        )
        reply = None
        if status == 200:  # one held request, not a poll: the bench must not load the machine
            new = standin.wait_for(seen + 1, to=address, timeout=args.timeout)[seen:]
            if new:  # the time is when the stand-in received it, not when this call returned
                reply = new[0]["received_at"] - started
        results.append({"status": status, "ack": ack, "reply": reply})
    return results


def rest_farmer(args, index: int, run_id: int) -> list[dict]:
    sender = f"bench-rest-{run_id:03d}-{index:04d}"
    results = []
    for turn in range(args.messages):
        payload = json.dumps({"sender": sender, "message": MESSAGES[turn % len(MESSAGES)]}).encode()
        request = urllib.request.Request(
            f"{args.rasa}/webhooks/rest/webhook", data=payload, headers={"Content-Type": "application/json"}
        )
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=args.timeout) as response:
                status, answered = response.status, bool(json.loads(response.read() or b"[]"))
        except (urllib.error.URLError, OSError):
            status, answered = 0, False
        seconds = time.perf_counter() - started
        results.append({"status": status, "ack": seconds, "reply": seconds if answered else None})
    return results


def run_phase(args, worker, run_id: int) -> dict:
    with ThreadPoolExecutor(max_workers=args.farmers) as pool:
        futures = [pool.submit(worker, args, i, run_id) for i in range(args.farmers)]
        rows = [row for future in futures for row in future.result()]
    acks = [r["ack"] for r in rows if r["status"] == 200]
    replies = [r["reply"] for r in rows if r["reply"] is not None]
    return {
        "requests": len(rows),
        "ok": len(acks),
        "replied": len(replies),
        "ack_p50": percentile(acks, 50),
        "ack_p95": percentile(acks, 95),
        "reply_p50": percentile(replies, 50),
        "reply_p95": percentile(replies, 95),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rasa", default="http://127.0.0.1:5005")
    parser.add_argument("--standin", default="http://127.0.0.1:4010")
    parser.add_argument(
        "--public-base-url", default="", help="TWILIO_PUBLIC_BASE_URL of the server (default: --rasa)"
    )
    parser.add_argument("--auth-token", default="bench-token")
    parser.add_argument("--medium", choices=("sms", "whatsapp"), default="sms")
    parser.add_argument("--farmers", type=int, default=10)
    parser.add_argument("--messages", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    if os.environ.get(USE_STANDIN, "").strip() != "1":
        parser.error(f"the benchmark only runs against the local Twilio stand-in: set {USE_STANDIN}=1")
    for url in (args.rasa, args.standin):
        if urlsplit(url).hostname not in LOOPBACK:
            parser.error(f"{url}: the benchmark only talks to loopback addresses")
    args.farmers = max(1, min(args.farmers, 200))
    args.messages = max(1, min(args.messages, 20))
    args.rasa, args.standin = args.rasa.rstrip("/"), args.standin.rstrip("/")
    run_id = random.randint(0, 999)

    print(f"{args.farmers} farmers at once x {args.messages} messages, {args.medium} vs REST")
    ours = run_phase(args, channel_farmer, run_id)
    rest = run_phase(args, rest_farmer, run_id)
    print(f"\n{'':28}{'ours (' + args.medium + ')':>16}{'REST':>12}{'ratio':>9}")
    for label, key in (
        ("ack p50 (s)", "ack_p50"),
        ("ack p95 (s)", "ack_p95"),
        ("reply at phone p50 (s)", "reply_p50"),
        ("reply at phone p95 (s)", "reply_p95"),
    ):
        ratio = ours[key] / rest[key] if rest[key] else float("nan")
        print(f"{label:28}{ours[key]:16.3f}{rest[key]:12.3f}{ratio:9.2f}")
    print(
        f"{'requests ok / replied':28}{ours['ok']:>9}/{ours['replied']:<6}"
        f"{rest['ok']:>6}/{rest['replied']:<5}"
    )
    print("\nratio = ours / REST. Twilio waits only for the acknowledgement (and gives up at 15 s);")
    print("our reply time includes the REST call to the (stand-in) Twilio API.")
    return 0 if ours["ok"] == ours["requests"] and rest["ok"] == rest["requests"] else 1


if __name__ == "__main__":
    sys.exit(main())
