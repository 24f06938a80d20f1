"""The conversation bank, run through the running stack as farmers' phones: signed Twilio webhooks
in, replies out through the local stand-in (the helpers of tests/channels/test_rasa_e2e.py).

Each conversation starts from a clean state for its phone (consent, check code, payment views,
requests for a person, opt-outs, PIN and the enrolments made by the bank are cleared on the
stack's database; the Rasa conversation is restarted). Conversations on different phones run side
by side; a phone's messages stay under the channel's per-number rate limit. Every scored turn
passes or fails with its reason; the report is tests/artifacts/conversations/report.md.

    .venv/bin/pytest tests/conversations -m rasa -s              # the bank and its score
    CONVERSATIONS_MIN_SCORE=0.3 .venv/bin/pytest tests/conversations -m rasa

The test fails below CONVERSATIONS_MIN_SCORE, by default issue 11's target, 0.90. CONVERSATIONS_ONLY=id1,id2 runs
only those conversations (a prefix matches too; the score then covers only them);
CONVERSATIONS_WORKERS (default 6) is how many phones talk at once.

A scored turn passes when every ``must`` fact is in what the assistant answered (the set-up it
needed included), no ``must_not`` fact is, and no answer broke a hard rule (no answer, the error
apology, a stack trace, a FAQ placeholder, an SMS answer over 2 parts). A hard rule broken by an
unscored set-up answer ("hola", "1") counts against the conversation's next scored turn.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.request
from collections import defaultdict, deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update

from bot.db import session_scope
from bot.messaging.schema import OptOutEvent
from bot.phones import twilio_address
from bot.records.demo_data import DEMO_PHONES, UNKNOWN_DEMO_PHONE
from bot.records.schema import (
    Consent,
    Enrolment,
    Farmer,
    FarmerPhone,
    HumanRequest,
    PaymentAccessLog,
    PhoneVerification,
    Training,
)
from tests.channels.test_rasa_e2e import say
from tests.conversations import bank, facts

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "tests" / "artifacts" / "conversations" / "report.md"
HOLDOUT_REPORT = REPORT.with_name("holdout.md")  # the held-out set's turns, apart
TARGET_SCORE = 0.90  # issue 11's target
MIN_SCORE = float(os.environ.get("CONVERSATIONS_MIN_SCORE", str(TARGET_SCORE)))
# The held-out set (holdout.yml) measures how the assistant answers wordings nobody tuned it on;
# it fails a little below what was measured when it was scored (round 3: 93 of 120, 77.5%,
# 2026-11-30; runs of one model vary by about 3 turns).
HOLDOUT_MIN_SCORE = float(os.environ.get("CONVERSATIONS_HOLDOUT_MIN_SCORE", "0.72"))
# Earlier held-out sets, retired into development (holdout_round1.yml, holdout_round2.yml): gated
# together, apart from the bank, at 70% (202 of 223, 90.6%, after round 2's failures were worked
# on, 2026-11-30).
RETIRED_MIN_SCORE = float(os.environ.get("CONVERSATIONS_RETIRED_MIN_SCORE", "0.70"))
WORKERS = int(os.environ.get("CONVERSATIONS_WORKERS", "6"))
REPLY_TIMEOUT = 30  # seconds to wait for the first reply of a message
MEDIA_TYPES = {
    "audio": "audio/ogg",
    "image": "image/jpeg",
    "video": "video/mp4",
    "document": "application/pdf",
}
DEMO_FOLIOS = {d.folio for d in DEMO_PHONES}
BANK_PHONES = {d.phone for d in DEMO_PHONES} | {UNKNOWN_DEMO_PHONE}


# --- the bank itself (no stack needed) ----------------------------------------------------------


def test_the_bank_is_well_formed():
    conversations = bank.load_bank()
    ids = [c.id for c in conversations]
    assert len(ids) == len(set(ids)), "conversation ids are unique"
    assert {c.topic for c in conversations} == set(bank.TOPICS)
    scored = [t for c in conversations for t in c.turns if t.scored]
    assert len(scored) >= 150, f"at least 150 scored questions (has {len(scored)})"
    for conv in conversations:
        assert conv.medium in bank.MEDIA, conv.id
        assert bool(conv.phone) != bool(conv.farmer), f"{conv.id}: a phone or a farmer"
        assert conv.farmer or conv.phone in BANK_PHONES, f"{conv.id}: a phone of the demo records"
        assert conv.consent in ("accept", "decline"), conv.id
        for turn in conv.turns:
            assert turn.setup or turn.scored, f"{conv.id}: {turn.say!r} is scored on something"
            for name in bank.fact_kinds(turn.must) + bank.fact_kinds(turn.must_not):
                assert name in facts.KINDS, f"{conv.id}: unknown kind of fact {name}"


def test_every_reference_resolves_on_the_seeded_records(seeded_db):
    """Each fact names something the demo records hold (a typo in a folio shows up here)."""
    problems = []
    for conv in bank.load_bank():
        phone = conv.phone or facts.phone_of_farmer(seeded_db, conv.farmer)
        ctx = facts.Context(database_url=seeded_db, phone=phone, medium=conv.medium)
        for turn in conv.turns:
            for spec in (turn.must, turn.must_not):
                if spec is None:
                    continue
                ctx.question = turn.say
                items = spec if isinstance(spec, list) else [{k: v} for k, v in spec.items()]
                for item in items:
                    for name, params in item.items():
                        try:
                            facts.resolve(name, params, ctx)
                        except facts.Unresolvable as error:
                            problems.append(f"{conv.id} {turn.say!r}: {name}: {error}")
    assert not problems, "\n".join(problems)


# --- running it through the stack ---------------------------------------------------------------


@pytest.fixture(scope="module")
def conversation_stack(stack_env, rasa_stack):
    standin = stack_env["standin"]
    standin.control(reset=True, callback_base=rasa_stack["url"])
    yield {
        "url": rasa_stack["url"],
        "standin": standin,
        "stack": rasa_stack,
        "database_url": stack_env["database_url"],
        "env": stack_env["env"],
    }


def reset_phone(database_url: str, phone: str, run_started: datetime) -> None:
    """A clean start for one phone, as tests/assistant/conftest.py does for the demo phones, plus
    opt-outs, PINs and the enrolments the bank made (the demo farmers' own, and any made during
    this run); the seats those enrolments took are given back."""
    with session_scope(database_url) as s:
        for model in (Consent, PhoneVerification, PaymentAccessLog, HumanRequest, OptOutEvent):
            s.execute(delete(model).where(model.phone == phone))
        farmers = list(
            s.execute(
                select(Farmer.id, Farmer.folio)
                .join(FarmerPhone, FarmerPhone.farmer_id == Farmer.id)
                .where(FarmerPhone.phone == phone)
            ).all()
        )
        ids = [f[0] for f in farmers]
        if not ids:
            return
        s.execute(update(Farmer).where(Farmer.id.in_(ids)).values(pin_hash=None, pin_set_at=None))
        demo_ids = [f[0] for f in farmers if f[1] in DEMO_FOLIOS]
        made = list(
            s.execute(
                select(Enrolment.id, Enrolment.training_id).where(
                    Enrolment.farmer_id.in_(ids),
                    Enrolment.farmer_id.in_(demo_ids) | (Enrolment.created_at >= run_started),
                )
            ).all()
        )
        if not made:
            return
        s.execute(delete(Enrolment).where(Enrolment.id.in_([m[0] for m in made])))
        for training_id in {m[1] for m in made}:
            active = s.execute(
                select(func.count(Enrolment.id)).where(
                    Enrolment.training_id == training_id, Enrolment.status == "active"
                )
            ).scalar()
            s.execute(update(Training).where(Training.id == training_id).values(seats_taken=active or 0))


def restart_conversation(stack: dict, phone: str) -> None:
    """A new Rasa conversation for the number (the tracker's slots and options forgotten)."""
    rasa = stack["stack"]
    token = rasa.get("api_token") or (rasa.get("api") or {}).get("token")
    query = f"?token={token}" if token else ""
    request = urllib.request.Request(
        f"{stack['url']}/conversations/{phone}/tracker/events{query}",  # '+' stays literal
        data=json.dumps({"event": "restart"}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        assert response.status == 200


class Pacer:
    """Keeps each phone's messages under the channel's per-number limit per minute."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self.sent: dict[str, deque[float]] = defaultdict(deque)
        self.lock = threading.Lock()

    def wait(self, phone: str) -> None:
        if self.per_minute <= 0:
            return
        while True:
            with self.lock:
                now, sent = time.monotonic(), self.sent[phone]
                while sent and now - sent[0] > 60:
                    sent.popleft()
                if len(sent) < self.per_minute:
                    sent.append(now)
                    return
                delay = 60.5 - (now - sent[0])
            time.sleep(max(delay, 0.1))


class Phone:
    """One conversation of the bank, as the farmer's phone has it."""

    def __init__(self, stack: dict, conv: bank.Conversation, pacer: Pacer, run_started: datetime):
        self.stack, self.conv, self.pacer = stack, conv, pacer
        db = stack["database_url"]
        self.number = conv.phone or facts.phone_of_farmer(db, conv.farmer)
        self.code = conv.code or (conv.farmer[-4:] if conv.farmer else None)
        self.address = twilio_address(self.number, conv.medium)
        self.run_started = run_started
        self.last: bank.Exchange | None = None
        self.seen = 0

    def messages(self) -> list[dict]:
        return self.stack["standin"].messages(to=self.address)

    def collect_late_replies(self) -> None:
        """Replies that came after a turn was read belong to it."""
        everything = self.messages()
        if self.last is not None and len(everything) > self.seen:
            self.last.replies += everything[self.seen :]
        self.seen = len(everything)

    def send(self, body: str, turn: bank.Turn | None = None, auto: str | None = None) -> bank.Exchange:
        extra: dict = {}
        if turn is not None and turn.media:
            url = "https://api.twilio.com/2010-04-01/Accounts/ACtest/Messages/MM1/Media/ME1"
            extra["media"] = [(url, MEDIA_TYPES[turn.media])]
        if turn is not None and turn.location:
            extra["location"] = turn.location
        self.pacer.wait(self.number)
        self.collect_late_replies()
        started = time.monotonic()
        say(self.stack, self.number, self.conv.medium, body, timeout=REPLY_TIMEOUT, **extra)
        everything = self.messages()
        exchange = bank.Exchange(
            said=body,
            replies=everything[self.seen :],
            auto=auto,
            setup=auto is not None or bool(turn and turn.setup),
            seconds=time.monotonic() - started,
        )
        self.seen, self.last = len(everything), exchange
        return exchange

    def gate_answer(self, gate: str | None, done: set[str]) -> str | None:
        """What the farmer answers to the privacy notice, the check code or 'who is asking'."""
        if gate is None or gate in done:
            return None
        if gate == "privacy" and self.conv.consent == "accept":
            return "1"
        if gate == "code":
            return self.code
        if gate == "who":
            return self.conv.who
        return None

    def context(self, question: str, started: datetime) -> facts.Context:
        return facts.Context(
            database_url=self.stack["database_url"],
            phone=self.number,
            medium=self.conv.medium,
            question=question,
            started_at=started,
            today=date.today(),
            env=self.stack["env"],
        )

    def run(self) -> list[bank.TurnResult]:
        reset_phone(self.stack["database_url"], self.number, self.run_started)
        restart_conversation(self.stack, self.number)
        started = datetime.now(timezone.utc) - timedelta(seconds=1)
        self.seen = len(self.messages())
        results: list[bank.TurnResult] = []
        carried: list[str] = []
        waiting: bank.TurnResult | None = None
        for index, turn in enumerate(self.conv.turns):
            exchanges = [self.send(turn.say, turn)]
            if not turn.setup:
                done: set[str] = set()
                for _ in range(3):
                    gate = bank.gate_of(exchanges[-1].answer)
                    answer = self.gate_answer(gate, done)
                    if answer is None:
                        break
                    done.add(str(gate))
                    exchanges.append(self.send(answer, auto=gate))
            if waiting is not None:
                bank.score_turn(waiting, self.context(waiting.turn.say, started), carried)
                carried, waiting = [], None
            result = bank.TurnResult(self.conv, index, turn, exchanges, scored=turn.scored)
            if turn.scored:
                waiting = result  # scored once its late replies are in, before the next message
            else:
                carried += [
                    f"set-up {e.said[:20]!r}: {p}"
                    for e in exchanges
                    for p in bank.hard_problems(e, self.conv.medium)
                ]
            results.append(result)
        time.sleep(0.5)
        self.collect_late_replies()
        if waiting is not None:
            bank.score_turn(waiting, self.context(waiting.turn.say, started), carried)
        elif carried and any(r.scored for r in results):
            last = [r for r in results if r.scored][-1]
            last.reasons += carried
            last.categories += ["hard rule: set-up turn"] * len(carried)
            last.passed = False
        return results


def selected(conversations: list[bank.Conversation]) -> list[bank.Conversation]:
    only = [o.strip() for o in os.environ.get("CONVERSATIONS_ONLY", "").split(",") if o.strip()]
    if not only:
        return conversations
    return [c for c in conversations if any(c.id.startswith(o) for o in only)]


def run_bank(stack: dict, conversations: list[bank.Conversation]) -> list[bank.TurnResult]:
    """Every conversation, several phones at once, one conversation at a time per phone; the
    phones with the most conversations start first."""
    limit = int(stack["env"].get("TWILIO_RATE_LIMIT_PER_MINUTE", "30") or 0)
    pacer = Pacer(max(limit - 3, 1) if limit > 0 else 0)
    run_started = datetime.now(timezone.utc) - timedelta(seconds=1)
    phones = [Phone(stack, c, pacer, run_started) for c in conversations]
    load: dict[str, int] = defaultdict(int)
    for p in phones:
        load[p.number] += 1
    queue = sorted(phones, key=lambda p: -load[p.number])
    busy: set[str] = set()
    lock = threading.Lock()
    results: dict[str, list[bank.TurnResult]] = {}

    def next_phone() -> Iterator[Phone | None]:
        while True:
            with lock:
                if not queue:
                    return
                found = next((p for p in queue if p.number not in busy), None)
                if found is not None:
                    queue.remove(found)
                    busy.add(found.number)
            yield found

    def worker() -> None:
        for phone in next_phone():
            if phone is None:
                time.sleep(0.2)
                continue
            try:
                results[phone.conv.id] = phone.run()
            finally:
                with lock:
                    busy.discard(phone.number)

    try:
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            for future in [pool.submit(worker) for _ in range(WORKERS)]:
                future.result()
    finally:  # the phones as the next tests expect them: no consent, check, request or enrolment
        for number in {p.number for p in phones}:
            reset_phone(stack["database_url"], number, run_started)
            restart_conversation(stack, number)
    return [r for c in conversations for r in results[c.id]]


@pytest.mark.rasa
def test_the_bank_through_the_running_stack(conversation_stack):
    conversations = selected(bank.load_bank())
    started = time.monotonic()
    results = run_bank(conversation_stack, conversations)
    seconds = time.monotonic() - started
    held = [r for r in results if r.conversation.held_out]
    results = [r for r in results if not r.conversation.held_out]
    retired = [r for r in results if r.conversation.retired_held_out]
    tuned = [r for r in results if not r.conversation.retired_held_out]
    summary = bank.summarise(results, len({r.conversation.id for r in results}))
    built_on = bank.summarise(tuned, len({r.conversation.id for r in tuned}))
    earlier = bank.summarise(retired, len({r.conversation.id for r in retired}))
    holdout = bank.summarise(held, len({r.conversation.id for r in held}))
    model = Path(os.environ.get("RASA_MODEL", "") or "newest in models/").name
    bank.write_report(
        REPORT,
        results,
        summary,
        {
            "run": datetime.now().strftime("%Y-%m-%d %H:%M"),
            "model": model,
            "minimum score": f"{MIN_SCORE:.0%} (CONVERSATIONS_MIN_SCORE)",
            "files the assistant was built against": f"{built_on.passed}/{built_on.scored} = {built_on.score:.1%}",
            "earlier held-out sets, retired into development": (
                f"{earlier.passed}/{earlier.scored} = {earlier.score:.1%} "
                f"(minimum {RETIRED_MIN_SCORE:.0%}, CONVERSATIONS_RETIRED_MIN_SCORE)"
            ),
            "held-out set (holdout.yml, scored apart, turns in holdout.md)": (
                f"{holdout.passed}/{holdout.scored} = {holdout.score:.1%} "
                f"(minimum {HOLDOUT_MIN_SCORE:.0%}, CONVERSATIONS_HOLDOUT_MIN_SCORE)"
            ),
            "time": f"{seconds:.0f} s",
        },
    )
    if held:
        bank.write_report(HOLDOUT_REPORT, held, holdout, {"run": datetime.now().strftime("%Y-%m-%d %H:%M")})
    lines = [
        f"conversation bank: {summary.passed}/{summary.scored} scored turns = {summary.score:.1%} "
        f"({summary.conversations} conversations, {summary.turns} turns, {seconds:.0f} s); "
        f"on their facts alone {summary.facts_passed}/{summary.scored}",
    ]
    lines += [f"  {t}: {p}/{n}" for t, (p, n) in summary.by_topic.items() if n]
    lines.append(f"built against: {built_on.passed}/{built_on.scored} = {built_on.score:.1%}")
    lines.append(f"earlier held-out sets: {earlier.passed}/{earlier.scored} = {earlier.score:.1%}")
    lines.append(f"held-out set: {holdout.passed}/{holdout.scored} = {holdout.score:.1%}")
    lines += ["most common failure reasons:"] + [f"  {n:3d}  {r}" for r, n in summary.reasons[:10]]
    lines.append(f"report: {REPORT.relative_to(ROOT)}")
    print("\n" + "\n".join(lines))
    assert built_on.score >= MIN_SCORE, "\n".join(lines)
    assert not retired or earlier.score >= RETIRED_MIN_SCORE, "\n".join(lines)
    assert not held or holdout.score >= HOLDOUT_MIN_SCORE, "\n".join(lines)
