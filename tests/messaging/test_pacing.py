"""The senders' shared pace (bot/messaging/pacing.py) and the outbox's priorities, on the real
databases and against the stand-in enforcing Twilio's per-sender rate with 429s."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import replace

import pytest

from bot.db import session_scope
from bot.messaging import outbound, outbox_claims, pacing
from bot.messaging.config import TwilioSettings
from bot.messaging.outbound import Outgoing
from bot.messaging.sender import TwilioSender
from bot.records.notices import PRIORITIES
from tests.messaging.conftest import new_phone
from tests.messaging.senders import SMS_FROM, queue, settings_for

pytestmark = pytest.mark.usefixtures("quiet")

TWO_PARTS_GSM = "Su pago esta programado. " * 8  # 200 GSM-7 characters: 2 parts
TWO_PARTS_UCS2 = "Su factura está en revisión. " * 3  # one "á" makes it UCS-2: 87 characters, 2 parts


def reserve(sender: str, units: int, per_second: float) -> float:
    with session_scope() as session:
        return pacing.reserve(session, sender, units, per_second)


def test_what_a_send_counts_against_its_sender():
    assert pacing.units_of("sms", "Su pago esta listo.", None) == 1
    assert pacing.units_of("sms", TWO_PARTS_GSM, None) == 2
    assert pacing.units_of("sms", TWO_PARTS_UCS2, None) == 2
    assert pacing.units_of("whatsapp", TWO_PARTS_UCS2, None) == 1
    assert pacing.units_of("whatsapp", "", "HX123") == 1


def test_reservations_space_a_senders_sends_by_their_units(empty_db):
    sender = f"+1500{uuid.uuid4().int % 10**7:07d}"
    started = time.monotonic()
    waits = [reserve(sender, units, 10) for units in (1, 1, 2, 1)]
    elapsed = time.monotonic() - started
    # each begins when the ones before it have had their tenth of a second per unit
    for wait, expected in zip(waits, (0.0, 0.1, 0.2, 0.4), strict=True):
        assert expected - elapsed - 0.01 <= wait <= expected + 0.01
    assert reserve(f"MG{uuid.uuid4().hex}", 1, 10) == 0.0  # another sender has its own pace


def test_a_sender_free_again_does_not_wait(empty_db):
    sender = f"+1500{uuid.uuid4().int % 10**7:07d}"
    reserve(sender, 1, 50)
    time.sleep(0.05)
    assert reserve(sender, 1, 50) == 0.0


def test_without_the_database_a_process_paces_itself(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")
    pace = pacing.SharedPace(per_second=20)

    async def three() -> list[float]:
        return [await pace.wait("+15005550006", 1) for _ in range(3)]

    started = time.monotonic()
    asyncio.run(three())
    assert time.monotonic() - started >= 0.09  # 0, then 0.05, then 0.05
    assert pace._alone


def test_a_turn_reserved_before_the_send_is_kept_unless_held_back_past_it(monkeypatch, tmp_path):
    """A turn reserved in the check before the send (dispatch.py) and missed by about a round trip
    is kept, however short the turns; one missed by a second is taken again (here the database is
    away, so taking it again is seen as the process pacing itself)."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")
    pace = pacing.SharedPace(per_second=1000)
    asyncio.run(pace.wait("+15005550006", 1, reserved=time.monotonic() - 0.01))
    assert not pace._alone  # no new reservation asked for
    asyncio.run(pace.wait("+15005550006", 1, reserved=time.monotonic() - 1.0))
    assert pace._alone


def burst(settings: TwilioSettings, senders: int, messages: int) -> None:
    """``messages`` SMS of 2 parts to different phones, sent at once by ``senders`` senders (each
    with its own pace object, as processes would have), all from one From number."""

    async def go() -> None:
        pool = [TwilioSender(settings) for _ in range(senders)]
        try:
            await asyncio.gather(
                *(
                    pool[n % senders].send(
                        medium="sms", to_address=new_phone(), body=TWO_PARTS_GSM, attempts=1
                    )
                    for n in range(messages)
                )
            )
        finally:
            for sender in pool:
                await sender.close()

    asyncio.run(go())


def busiest_second(records: list[dict]) -> int:
    """The most SMS parts the stand-in took from SMS_FROM in any one second."""
    taken = sorted((m["received_at"], m["num_segments"]) for m in records if m["from"] == SMS_FROM)
    return max(sum(units for at, units in taken if start <= at < start + 1.0) for start, _ in taken)


def test_senders_sharing_a_pace_stay_under_twilios_rate_counting_sms_parts(empty_db, api):
    """Paced at 6 parts a second, with room under Twilio's 10 for a request the machine held
    back a little (the pace spaces the sends as they leave, not as they arrive)."""
    api.control(rate_limit=10)
    burst(settings_for(api, sends_per_second=6), senders=3, messages=12)  # 24 parts: about 4 s
    assert api.rate_limited() == 0
    assert len(api.messages()) == 12
    assert busiest_second(api.messages()) <= 10


def test_without_the_pace_the_same_burst_meets_twilios_429s(empty_db, api):
    """The stand-in's limit bites: the test above would fail if pacing did nothing."""
    api.control(rate_limit=10)
    burst(settings_for(api, sends_per_second=0), senders=3, messages=16)
    assert api.rate_limited() > 0


def test_replies_are_claimed_before_notices_queued_earlier(empty_db):
    notice_priority = PRIORITIES["payment"]
    with session_scope() as session:
        notices = [
            outbound.enqueue_outgoing(
                session,
                [Outgoing("sms", phone, phone, "Aviso", in_reply_to=f"NT{n:032d}")],
                priority=notice_priority,
            )[0]
            for n, phone in enumerate(new_phone() for _ in range(8))
        ]
    reply = queue(new_phone(), "respuesta")
    with session_scope() as session:
        claimed = outbox_claims.claim_due_outbox(session, 3, 60)
    assert [item.outbound_id for item in claimed] == [reply, *notices[:2]]


def test_sms_goes_through_the_messaging_service_when_one_is_set():
    both = replace(TwilioSettings(sms_from="+525512345678", whatsapp_from="whatsapp:+5215512345678"))
    assert both.sender_for("sms") == {"from_": "+525512345678"}
    both = replace(both, messaging_service_sid="MG0123")
    assert both.sender_for("sms") == {"messaging_service_sid": "MG0123"}
    assert both.sender_for("whatsapp") == {"from_": "whatsapp:+5215512345678"}
