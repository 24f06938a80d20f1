"""What the Twilio stand-in holds: the messages it took, the status callbacks it posted, and the
faults it is told to play (bot/twilio_standin/server.py, ``POST /_standin/control``)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

WINDOW_SECONDS = 24 * 3600


@dataclass
class StandinState:
    account_sid: str = ""
    auth_token: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0
    fail_status: int = 500
    fail_until: float = 0.0  # every send fails (fail_status, retry_after) until then (epoch)
    down: bool = False
    statuses: list[str] | None = None  # None: sent, delivered (+ read on WhatsApp)
    latency: float = 0.0
    callback_delay: float = 0.05
    unsubscribed: set[str] = field(default_factory=set)
    attempts: int = 0  # every POST to Messages.json, failed ones included
    attempt_times: list[float] = field(default_factory=list)  # when each of them came
    list_times: list[float] = field(default_factory=list)  # when each GET of Messages.json came
    retry_after: str = ""  # Retry-After header sent with the failures of fail_next
    # The next ``lose_answers`` sends lose their answer: "reset" resets the connection, "delay"
    # holds the answer ``lose_delay`` seconds (past the client's timeout). With ``lose_received``
    # the message was taken first (the phone gets it); without, it never was.
    lose_answers: int = 0
    lose_how: str = "reset"
    lose_delay: float = 30.0
    lose_received: bool = True
    # Deliver status callbacks to this base instead of the StatusCallback's own host (signed
    # for the URL as given, as Twilio signs what it was told): a public URL behind a tunnel.
    callback_base: str = ""
    arrived: asyncio.Event = field(default_factory=asyncio.Event)  # set on every new message
    # Approved Content templates by ContentSid ("Aviso: su factura {{1}} {{2}}."): a send names
    # one of them, or gets 21655, once any is registered; its body is filled from the variables.
    templates: dict[str, str] = field(default_factory=dict)
    # WhatsApp's customer-service window: with ``enforce_window``, free text to a WhatsApp
    # address that has not written in the last 24 hours is taken and then fails with 63016.
    enforce_window: bool = False
    last_inbound: dict[str, float] = field(default_factory=dict)  # address -> when it last wrote (epoch)
    # Twilio's throughput per sender (a From or a Messaging Service): with ``rate_limit``, a send
    # that would put its sender over that many units in the last second (SMS: billed parts;
    # WhatsApp: one a message) is refused with 429 (20429), and counted in ``rate_limited``.
    rate_limit: float = 0.0
    rate_limited: int = 0
    sender_units: dict[str, deque[tuple[float, int]]] = field(default_factory=dict)

    def in_window(self, to: str, now: float) -> bool:
        return now - self.last_inbound.get(to, float("-inf")) < WINDOW_SECONDS

    def over_rate(self, sender: str, units: int, now: float) -> bool:
        """Whether this send would exceed its sender's rate (counted when it does); else its
        units are taken."""
        if not self.rate_limit:
            return False
        taken = self.sender_units.setdefault(sender, deque())
        while taken and taken[0][0] <= now - 1.0:
            taken.popleft()
        if sum(units for _at, units in taken) + units > self.rate_limit:
            self.rate_limited += 1
            return True
        taken.append((now, units))
        return False

    def record(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        self.arrived.set()
        self.arrived = asyncio.Event()  # waiters hold the set one; later waits get a fresh one

    def failing(self) -> bool:
        """Whether this send is answered with the failure (and counts it off fail_next)."""
        if self.fail_next > 0:
            self.fail_next -= 1
            return True
        return time.time() < self.fail_until

    def losing(self) -> bool:
        """Whether this send's answer is lost (and counts it off lose_answers)."""
        if self.lose_answers > 0:
            self.lose_answers -= 1
            return True
        return False

    def reset(self) -> None:
        self.messages.clear()
        self.callbacks.clear()
        self.fail_next = 0
        self.fail_status = 500
        self.fail_until = 0.0
        self.down = False
        self.statuses = None
        self.latency = 0.0
        self.unsubscribed.clear()
        self.attempts = 0
        self.attempt_times.clear()
        self.list_times.clear()
        self.retry_after = ""
        self.lose_answers = 0
        self.lose_how = "reset"
        self.lose_delay = 30.0
        self.lose_received = True
        self.callback_base = ""
        self.templates.clear()
        self.enforce_window = False
        self.last_inbound.clear()
        self.rate_limit = 0.0
        self.rate_limited = 0
        self.sender_units.clear()
