"""The farmers' side of `make chaos` (bench/chaos.py): signed webhooks posted as Twilio posts them,
and the count of what the Twilio stand-in actually received for them.

Counting. The stand-in records every message it took (its own list, ``/_standin/messages``: sid,
to, body, in the order it took them); it cannot see which inbound message a reply answers. The
link is our ``outbound_messages.in_reply_to`` (the inbound MessageSid), joined on the SID the
stand-in gave the send (``outbound_messages.twilio_sid``). A message the stand-in took whose SID we
never recorded (an answer lost and never reconciled) is linked by recipient and body instead; one
that links to nothing we queued is a stray and counts as a duplicate. Per inbound message (one
farmer's MessageSid, however many gateways it was posted to):

- answered: at least one reply other than the note "tuvimos una falla ... ya guardamos su mensaje"
  (a turn can legitimately give two messages: that note while the action server is down, then the
  answer; or an answer packed into two SMS), received within the scenario's bound;
- lost: accepted by a gateway (200) or refused in the end (Twilio gave up) and not answered;
- duplicates: a body received more than once for the same inbound message, plus strays;
- out of order: a farmer's answers (the notes aside) received in an order different from the order
  of the messages they answer (the order the gateways acknowledged them): each answer to an
  earlier message received after an answer to a later one counts once.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bot.db import session_scope
from bot.messaging import texts
from bot.messaging.formatting import pack_for_medium
from bot.messaging.schema import InboundMessage, OutboundMessage
from bot.twilio_standin.client import StandinClient, webhook_params
from tests.production.processes import AUTH_TOKEN, PUBLIC_BASE_URL
from tests.production.support import new_sid

PATH = {"sms": "/webhooks/sms/webhook", "whatsapp": "/webhooks/whatsapp/webhook"}
NOTES = {
    pack_for_medium(medium, [note])[0] for medium in PATH for note in (texts.TURN_DELAYED, texts.TURN_FAILED)
}
TWILIO_TOTAL_SECONDS = 15.0  # Twilio's retries (connection overrides, `tt`) end within 15 s


@dataclass
class Sent:
    phone: str
    medium: str
    body: str
    sid: str
    order: int  # its place among the farmer's messages, as the gateways acknowledged them
    status: int = 0  # the gateway's last answer (200: taken)
    posts: int = 0


def post_signed(url: str, params: dict[str, str]) -> int:
    """One POST signed as Twilio signs it (for the public URL, as processes.py configures)."""
    path = url.split("/", 3)[-1]
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"{PUBLIC_BASE_URL}/{path}", params)
    data = urllib.parse.urlencode(params).encode()
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return 0


def deliver(gateway: str, sent: Sent) -> Sent:
    """Posts the webhook as Twilio does with ``#rp=5xx,ct&rc=5`` (or a fallback URL): a 5xx or a
    refused connection is tried again, here every 0.5 s, for at most 15 s in all."""
    params = webhook_params(sent.phone, sent.medium, sent.body, message_sid=sent.sid, account_sid="ACchaos")
    deadline = time.monotonic() + TWILIO_TOTAL_SECONDS
    while True:
        sent.posts += 1
        sent.status = post_signed(gateway + PATH[sent.medium], params)
        if 200 <= sent.status < 500 or time.monotonic() > deadline:
            return sent
        time.sleep(0.5)


class Ledger:
    """Every message the farmers sent in the run, by scenario."""

    def __init__(self, gateways: list[str]):
        self.gateways = gateways
        self.by_scenario: dict[str, list[Sent]] = defaultdict(list)
        self._orders: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._turn = 0

    def send(
        self,
        scenario: str,
        phone: str,
        body: str,
        medium: str = "sms",
        sid: str | None = None,
        gateway: int | None = None,
    ) -> Sent:
        """One farmer message to the next gateway (round robin) or the one given; sequential
        per farmer."""
        with self._lock:
            self._orders[phone] += 1
            self._turn += 1
            url = self.gateways[(self._turn if gateway is None else gateway) % len(self.gateways)]
            sent = Sent(phone, medium, body, sid or new_sid(), self._orders[phone])
            self.by_scenario[scenario].append(sent)
        return deliver(url, sent)

    def farmer(self, scenario: str, phone: str, bodies: list[str], gap: float, medium: str = "sms"):
        """A thread sending the farmer's messages one after the other, ``gap`` s apart."""

        def run() -> None:
            for body in bodies:
                self.send(scenario, phone, body, medium)
                time.sleep(gap)

        thread = threading.Thread(target=run, name=f"farmer {phone[-4:]}", daemon=True)
        thread.start()
        return thread


@dataclass
class Tally:
    messages: int = 0
    answered: int = 0
    lost: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    notes: int = 0
    lost_sids: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in ("messages", "answered", "lost", "duplicates", "out_of_order", "notes"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.lost_sids += other.lost_sids


def linked_records(standin: StandinClient, database_url: str) -> list[tuple[dict, str | None]]:
    """Every message the stand-in took, in the order it took it, with the inbound MessageSid it
    answers (None for a stray): by the SID we recorded for the send, else by recipient and body."""
    with session_scope(database_url) as session:
        rows = session.execute(
            select(
                OutboundMessage.twilio_sid,
                OutboundMessage.in_reply_to,
                OutboundMessage.to_address,
                OutboundMessage.body,
            )
        ).all()
    by_sid = {sid: ref for sid, ref, _, _ in rows if sid}
    by_content: dict[tuple[str, str], str] = {}
    for _, ref, to, body in rows:
        by_content.setdefault((to, body), ref)
    return [
        (record, by_sid.get(record["sid"]) or by_content.get((record["to"], record["body"])))
        for record in standin.messages()
    ]


def received_replies(standin: StandinClient, database_url: str) -> tuple[dict[str, list[str]], int]:
    """The bodies the stand-in took, by the inbound MessageSid they answer, in the order it took
    them; and how many it took that answer nothing we queued (strays)."""
    replies: dict[str, list[str]] = defaultdict(list)
    strays = 0
    for record, ref in linked_records(standin, database_url):
        if ref is None:
            strays += 1
        else:
            replies[ref].append(record["body"])
    return replies, strays


def tally(sent: list[Sent], replies: dict[str, list[str]]) -> Tally:
    result = Tally()
    unique = {each.sid for each in sent}  # the same MessageSid posted to two gateways: one
    result.messages = len(unique)
    for sid in sorted(unique):
        bodies = replies.get(sid, [])
        result.notes += sum(1 for body in bodies if body in NOTES)
        result.duplicates += sum(count - 1 for count in Counter(bodies).values())
        if any(body not in NOTES for body in bodies):
            result.answered += 1
        else:
            result.lost += 1
            result.lost_sids.append(sid)
    return result


def out_of_order(sent: list[Sent], standin: StandinClient, database_url: str) -> int:
    """Answers received after an answer to a later message of the same farmer."""
    order = {each.sid: (each.phone, each.order) for each in sent}
    with session_scope(database_url) as session:
        rows = session.execute(select(OutboundMessage.twilio_sid, OutboundMessage.in_reply_to)).all()
    by_sid = {sid: ref for sid, ref in rows if sid}
    latest: dict[str, int] = {}
    wrong = 0
    for record in standin.messages():
        if record["body"] in NOTES or by_sid.get(record["sid"]) not in order:
            continue
        phone, place = order[by_sid[record["sid"]]]
        if place < latest.get(phone, 0):
            wrong += 1
        latest[phone] = max(place, latest.get(phone, 0))
    return wrong


def unanswered(sent: list[Sent], standin: StandinClient, database_url: str) -> list[str]:
    replies, _ = received_replies(standin, database_url)
    return [each.sid for each in sent if not any(body not in NOTES for body in replies.get(each.sid, []))]


def in_flight(database_url: str, worker_id: str | None = None) -> list[tuple[str, str, str | None]]:
    """(MessageSid, status, claimed_by) of the messages not done, claimed by ``worker_id`` if given."""
    with session_scope(database_url) as session:
        query = select(InboundMessage.message_sid, InboundMessage.status, InboundMessage.claimed_by).where(
            InboundMessage.status.in_(("received", "processing"))
        )
        if worker_id:
            query = query.where(InboundMessage.claimed_by == worker_id)
        return [tuple(row) for row in session.execute(query)]
