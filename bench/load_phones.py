"""The farmers' phones of `make bench-load` (bench/load.py): each farmer writes the messages of
their journey, one after the other, each after the answer to the one before (and a pause to
read it), over Rasa's REST channel or over signed Twilio webhooks to the gateways; one asyncio
loop for all of them, so that the phones cost the machine little. Each message goes on a
connection of its own, as a webhook from Twilio comes, posted with asyncio's streams
(bench/raw_http.py) rather than aiohttp's client, which took a quarter of the CPU of a burst of
webhooks on two cores (bench/README.md, *Acknowledgement*): what the phones spend is taken from
the processes they measure, where Twilio's requests cost us nothing.

Over the gateways, a message's answer is what the Twilio stand-in receives for the farmer's
phone: one long-polling reader (``Inbox``) hands each received message to the phone it went to.
The time of a reply, here, is only what paces the farmer; the figures take it from the stand-in's
record of the send, linked to the message it answers (bench/load.py).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from twilio.request_validator import RequestValidator

from bench.load_farmers import LoadFarmer
from bench.raw_http import post
from bot.twilio_standin.client import webhook_params
from tests.production.processes import AUTH_TOKEN, PUBLIC_BASE_URL

WEBHOOK = "/webhooks/sms/webhook"
ANSWER_TIMEOUT = 90.0  # seconds a farmer waits for an answer before giving up on the journey


@dataclass
class Said:
    """One farmer message and what became of it."""

    farmer: LoadFarmer
    body: str
    sid: str
    order: int  # its place among the farmer's messages
    started: float  # epoch seconds, when the phone began to send it
    status: int = 0  # the answer to the request (200: taken)
    ack: float | None = None  # seconds until that answer
    answered_at: float | None = None  # epoch seconds of its last reply, when known
    answers: list[str] = field(default_factory=list)


class Inbox:
    """What the stand-in received, handed to each phone as it arrives (one long poll at a time)."""

    def __init__(self, standin: str, http: aiohttp.ClientSession):
        self.standin, self.http = standin.rstrip("/"), http
        self.queues: dict[str, asyncio.Queue[dict]] = defaultdict(asyncio.Queue)
        self.seen = 0

    async def start_at_end(self) -> None:
        async with self.http.get(f"{self.standin}/_standin/messages?since=0") as answer:
            self.seen = (await answer.json())["total"]

    async def run(self) -> None:
        while True:
            url = f"{self.standin}/_standin/messages?since={self.seen}&count=1&wait=5"
            try:
                async with self.http.get(url, timeout=aiohttp.ClientTimeout(total=20)) as answer:
                    found = (await answer.json())["messages"]
            except (aiohttp.ClientError, asyncio.TimeoutError):
                await asyncio.sleep(0.5)
                continue
            self.seen += len(found)
            for message in found:
                self.queues[message["to"].split(":", 1)[-1]].put_nowait(message)

    def drain(self, phone: str) -> None:
        queue = self.queues[phone]
        while not queue.empty():
            queue.get_nowait()

    async def next(self, phone: str, timeout: float) -> dict | None:
        try:
            return await asyncio.wait_for(self.queues[phone].get(), timeout)
        except asyncio.TimeoutError:
            return None


def signed_webhook(
    validator: RequestValidator, phone: str, body: str, sid: str
) -> tuple[str, dict[str, str]]:
    """An SMS webhook from ``phone`` as Twilio posts it: the form and its headers, signed."""
    params = webhook_params(phone, "sms", body, message_sid=sid, account_sid="ACchaos")
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": validator.compute_signature(PUBLIC_BASE_URL + WEBHOOK, params),
    }
    return urlencode(params), headers


class Gateways:
    """Signed webhooks to the gateways in turn, as a load balancer spreads Twilio's requests."""

    def __init__(self, urls: list[str], inbox: Inbox):
        self.urls, self.inbox = urls, inbox
        self.turn = itertools.count()
        self.validator = RequestValidator(AUTH_TOKEN)

    async def say(self, said: Said) -> None:
        data, headers = signed_webhook(self.validator, said.farmer.phone, said.body, said.sid)
        self.inbox.drain(said.farmer.phone)  # the late second part of an earlier answer
        url = self.urls[next(self.turn) % len(self.urls)] + WEBHOOK
        said.status, said.ack, _ = await _post(url, data, headers)
        if said.status != 200:
            return
        reply = await self.inbox.next(said.farmer.phone, ANSWER_TIMEOUT)
        if reply is not None:
            said.answered_at, said.answers = reply["received_at"], [reply["body"]]


class RestChannel:
    """Rasa's REST channel: the request is held for the whole turn, and answers with its replies."""

    def __init__(self, url: str):
        self.url = url.rstrip("/") + "/webhooks/rest/webhook"

    async def say(self, said: Said) -> None:
        payload = json.dumps({"sender": said.farmer.phone, "message": said.body})
        headers = {"Content-Type": "application/json"}
        said.status, said.ack, replies = await _post(self.url, payload, headers, read_json=True)
        if said.status == 200 and replies:
            said.answered_at = said.started + (said.ack or 0.0)
            said.answers = [str(reply.get("text") or "") for reply in replies]


async def _post(
    url: str, data: str, headers: dict[str, str], read_json: bool = False
) -> tuple[int, float | None, Any]:
    """(status, seconds until the answer, its JSON body when asked for and 200); (0, None, None)
    when the request failed."""
    started = time.perf_counter()
    try:
        status, body = await asyncio.wait_for(post(url, data.encode(), headers), ANSWER_TIMEOUT)
        answer = json.loads(body) if read_json and status == 200 else None
        return status, time.perf_counter() - started, answer
    except (OSError, EOFError, asyncio.TimeoutError, ValueError, IndexError):
        return 0, None, None


async def journey(channel: Gateways | RestChannel, farmer: LoadFarmer, think: float, log: list[Said]) -> None:
    """The farmer's messages in order, each after the answer to the one before and ``think`` s."""
    for order, body in enumerate(farmer.says(), 1):
        said = Said(farmer, body, "SM" + uuid.uuid4().hex, order, time.time())
        log.append(said)
        await channel.say(said)
        if said.answered_at is None:
            return  # no answer: the farmer gives up (counted as lost unless it comes later)
        await asyncio.sleep(think)


async def run_farmers(
    channel: Gateways | RestChannel, farmers: list[LoadFarmer], rate: float | None, think: float
) -> list[Said]:
    """Every farmer's journey; farmers arrive ``rate`` a second (None: all at once)."""
    log: list[Said] = []
    began = time.monotonic()

    async def arrive(place: int, farmer: LoadFarmer) -> None:
        if rate:
            await asyncio.sleep(max(0.0, began + place / rate - time.monotonic()))
        await journey(channel, farmer, think, log)

    await asyncio.gather(*(arrive(place, farmer) for place, farmer in enumerate(farmers)))
    return log
