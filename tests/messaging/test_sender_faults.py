"""The outbox sent through a real Twilio stand-in on a free port, on SQLite and PostgreSQL, with
the stand-in's faults: opt-out after queueing, 429 with Retry-After, 500, and answers lost on
their way back (the message taken or not). What Twilio got is counted by the stand-in itself."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.messaging import dispatch, inbound, optout, outbox, outbox_claims
from bot.messaging.delivery import OutboxWorker, deliver
from bot.messaging.dispatch import Outcome
from bot.messaging.outbound import Outgoing
from bot.messaging.schema import OutboundMessage, SenderPace
from bot.messaging.sender import SendResult, TwilioSender
from bot.messaging.sender_health import SenderMetrics
from bot.messaging.statuses import OUTBOUND_STATUSES
from bot.timeutil import utcnow
from tests.messaging.conftest import inbound_message, new_phone
from tests.messaging.senders import SMS_FROM, drain, entry, message, one_round, pending, queue, settings_for

pytestmark = pytest.mark.usefixtures("empty_db", "quiet")


def received(api, body: str) -> list[dict]:
    return [m for m in api.messages() if m["body"] == body]


def sid() -> str:
    return "SM" + uuid.uuid4().hex


def next_free(sender: str) -> float | None:
    with session_scope() as session:
        return session.scalar(select(SenderPace.next_free_at).where(SenderPace.sender == sender))


def counted(metrics: SenderMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_opt_out_after_queueing_is_not_sent_and_recorded_skipped(api):
    phone, baja, later = new_phone(), sid(), sid()
    reply = queue(phone, "Su pago sale el viernes.", in_reply_to=sid())
    notice = queue(phone, "Nueva capacitación el sábado.", proactive=True)
    with session_scope() as session:
        inbound.store_inbound(session, inbound_message(baja, "BAJA", phone))
    # the BAJA's confirmation is queued with it (its time may even come first)
    confirmation = queue(phone, "Ya no recibirá avisos.", in_reply_to=baja)
    with session_scope() as session:
        optout.record_opt(session, phone, "opt_out", "baja", "sms")
    answer = queue(phone, "Eco: hola", in_reply_to=later)  # to a message written after BAJA

    results = drain(TwilioSender(settings_for(api)))

    assert [m["body"] for m in api.messages()] == ["Ya no recibirá avisos.", "Eco: hola"]
    for skipped in (reply, notice):
        row = message(skipped)
        assert (row.status, row.twilio_sid, row.error) == ("skipped_opt_out", None, "queued")
        assert entry(skipped).done_at is not None and not entry(skipped).gave_up
    for sent in (confirmation, answer):
        assert message(sent).twilio_sid
    outcomes = sorted(r.outcome.value for r in results)
    assert outcomes == ["sent", "sent", "skipped_opt_out", "skipped_opt_out"]


def test_retry_after_holds_every_send_of_that_sender_until_it_has_passed(api):
    """Twilio answers 429 with Retry-After: 2. The sender's back-off is 0.2 s; no request of
    that sender reaches the stand-in before the 2 s are over, and each message goes once."""
    first, second = queue(new_phone(), "uno"), queue(new_phone(), "dos")
    api.control(fail_next=1, fail_status=429, retry_after="2")

    results = drain(TwilioSender(settings_for(api)))

    times = api.attempt_times()
    refused_at, later = times[0], times[1:]
    assert len(later) == 2 and min(later) >= refused_at + 2.0
    assert len(received(api, "uno")) == 1 and len(received(api, "dos")) == 1
    assert message(first).attempts == 2 and message(second).attempts == 1
    assert Outcome.DEFERRED in [r.outcome for r in results]  # the other message waited, untried
    assert pending() == 0


def test_a_500_is_retried_with_back_off_and_sent_once(api):
    outbound_id = queue(new_phone(), "tres")
    api.control(fail_next=3, fail_status=500)

    drain(TwilioSender(settings_for(api)))

    times = api.attempt_times()
    assert len(times) == 4 and len(received(api, "tres")) == 1
    assert times[1] - times[0] >= 0.03  # in-call back-off
    assert times[2] - times[1] >= 0.15  # the outbox's, after the claim's two tries
    row = message(outbound_id)
    assert (row.status, row.attempts, entry(outbound_id).attempts) == ("queued", 4, 1)


@pytest.mark.parametrize("how", ["reset", "delay"])
def test_a_lost_answer_is_reconciled_from_twilios_list_not_sent_again(api, how):
    outbound_id = queue(new_phone(), "Su factura F-300102 está programada.", in_reply_to=sid())
    api.control(lose_answers=1, lose_how=how, lose_delay=3)
    settings = settings_for(api)

    first = one_round(TwilioSender(settings))
    assert [r.outcome for r in first] == [Outcome.UNCERTAIN]
    assert message(outbound_id).status == "uncertain" and message(outbound_id).twilio_sid is None
    pace_before = next_free(SMS_FROM)

    metrics = SenderMetrics()
    results = drain(TwilioSender(settings), on_sent=metrics.observe)

    assert next_free(SMS_FROM) == pace_before  # found, not sent: it took no turn on the pace

    taken = received(api, "Su factura F-300102 está programada.")
    assert len(taken) == 1 and api.attempts() == 1  # no second send
    assert [r.outcome for r in results] == [Outcome.RECONCILED]
    assert counted(metrics, "sender_reconciled_total", found="true") == 1
    assert counted(metrics, "sender_sends_total", medium="sms") == 1
    row = message(outbound_id)
    assert row.twilio_sid == taken[0]["sid"] and row.status in OUTBOUND_STATUSES and row.sent_at
    assert len(api.state.list_times) == 1


def test_a_lost_answer_for_a_message_twilio_never_took_is_sent_once_on_retry(api):
    outbound_id = queue(new_phone(), "Escriba MENU para ver opciones.")
    api.control(lose_answers=1, lose_how="reset", lose_received=False)

    metrics = SenderMetrics()
    results = drain(TwilioSender(settings_for(api)), on_sent=metrics.observe)

    assert [r.outcome for r in results] == [Outcome.UNCERTAIN, Outcome.SENT]
    assert counted(metrics, "sender_sends_failed_total", error_code="uncertain") == 1
    assert counted(metrics, "sender_reconciled_total", found="false") == 1
    assert len(received(api, "Escriba MENU para ver opciones.")) == 1 and api.attempts() == 2
    assert message(outbound_id).twilio_sid == received(api, "Escriba MENU para ver opciones.")[0]["sid"]
    assert len(api.state.list_times) == 1  # looked up before the retry


def test_the_same_text_sent_before_is_not_taken_for_the_lost_one(api):
    """The farmer got "Gracias." a moment ago; a second "Gracias." whose answer was lost and that
    Twilio never took is sent, not matched to the first one's SID (ours already)."""
    phone = new_phone()
    earlier = queue(phone, "Gracias.")
    drain(TwilioSender(settings_for(api)))
    lost = queue(phone, "Gracias.")
    api.control(lose_answers=1, lose_received=False)

    drain(TwilioSender(settings_for(api)))

    assert len(received(api, "Gracias.")) == 2
    assert message(lost).twilio_sid not in (None, message(earlier).twilio_sid)


def test_an_uncertain_send_waits_while_twilios_list_cannot_be_read(api):
    outbound_id = queue(new_phone(), "cuatro")
    api.control(lose_answers=1)
    settings = settings_for(api)
    one_round(TwilioSender(settings))
    api.control(down=True)

    drain(TwilioSender(settings), timeout=1.5)

    assert message(outbound_id).status == "uncertain" and api.attempts() == 1
    api.control(down=False)
    drain(TwilioSender(settings))
    assert len(received(api, "cuatro")) == 1 and api.attempts() == 1
    assert message(outbound_id).twilio_sid == received(api, "cuatro")[0]["sid"]


def test_twilios_message_list_filters_by_recipient_and_date_sent(api):
    phone, other = new_phone(), new_phone()
    queue(phone, "cinco")
    queue(other, "seis")
    drain(TwilioSender(settings_for(api)))

    async def listed(to: str, since):
        sender = TwilioSender(settings_for(api))
        try:
            return await sender.list_sent(to, since)
        finally:
            await sender.close()

    mine = asyncio.run(listed(phone, utcnow()))
    assert [(m.body, m.to, m.direction) for m in mine] == [("cinco", phone, "outbound-api")]
    assert mine[0].created is not None and mine[0].sid == received(api, "cinco")[0]["sid"]
    assert asyncio.run(listed(phone, utcnow() + timedelta(days=1))) == []
    assert api.messages()[0]["from"] == SMS_FROM


def test_the_embedded_outbox_worker_reconciles_a_reply_whose_answer_was_lost(api, tmp_path):
    """`make run`'s path: the reply is sent at once (deliver), its answer is lost, and the
    outbox worker looks it up through the same path as the sender processes."""
    phone = new_phone()
    api.control(lose_answers=1)
    sender = TwilioSender(settings_for(api, inbound_spool=str(tmp_path / "spool.jsonl")))
    reply = Outgoing("sms", phone, phone, "Hola de nuevo.", in_reply_to=sid())

    async def answer_then_worker_round() -> tuple[SendResult, int]:
        try:
            result = await deliver(sender, reply)
            await asyncio.sleep(0.3)  # the outbox entry is due after outbox_interval
            return result, await OutboxWorker(sender).run_once()
        finally:
            await sender.close()

    result, sent = asyncio.run(answer_then_worker_round())

    assert result.uncertain and not result.ok and sent == 1
    taken = received(api, "Hola de nuevo.")
    assert len(taken) == 1 and api.attempts() == 1
    with session_scope() as session:
        row = session.execute(select(OutboundMessage).where(OutboundMessage.phone == phone)).scalar_one()
    assert row.twilio_sid == taken[0]["sid"] and row.status != "uncertain"


def test_an_entry_whose_lease_ran_out_and_was_claimed_again_is_sent_once(api):
    """A sender held the entry past its lease (a long batch); another sender claimed it since.
    The first one, coming to it at last, finds its claim gone and does not send."""
    queue(new_phone(), "siete")
    with session_scope() as session:
        stale = outbox_claims.claim_due_outbox(session, 10, 0)[0]
    with session_scope() as session:
        current = outbox_claims.claim_due_outbox(session, 10, 60)[0]
    sender = TwilioSender(settings_for(api))

    async def both() -> tuple[dispatch.Sent, dispatch.Sent]:
        try:
            return await dispatch.send_claimed(sender, stale), await dispatch.send_claimed(sender, current)
        finally:
            await sender.close()

    late, fresh = asyncio.run(both())
    assert (late.outcome, fresh.outcome) == (Outcome.CLAIM_LOST, Outcome.SENT)
    assert len(received(api, "siete")) == 1 and api.attempts() == 1


def test_a_send_whose_record_was_lost_with_its_sender_is_looked_up_not_sent_again(api):
    """A sender claimed an entry, Twilio took the message, and then the sender died (or the
    database went away) before the send was recorded: the claim runs out unreleased. The sender
    that claims it next looks it up in Twilio's list first, and sends nothing again."""
    body = "Su pago de la factura F-300102 está programado."
    outbound_id = queue(new_phone(), body, in_reply_to=sid())
    sender = TwilioSender(settings_for(api))
    with session_scope() as session:
        (lost,) = outbox_claims.claim_due_outbox(session, 10, 0)  # a lease that has run out already
    assert lost.uncertain_since is None  # a first claim: nothing can have gone out yet

    async def sent_and_died() -> SendResult:
        try:
            return await sender.send_message(lost)  # never recorded
        finally:
            await sender.close()

    assert asyncio.run(sent_and_died()).ok and len(received(api, body)) == 1
    results = drain(TwilioSender(settings_for(api)))
    assert [r.outcome for r in results] == [Outcome.RECONCILED]
    assert len(received(api, body)) == 1 and api.attempts() == 1
    assert message(outbound_id).twilio_sid == received(api, body)[0]["sid"]


def test_a_claim_given_back_untried_is_not_looked_up(api):
    queue(new_phone(), "ocho")
    with session_scope() as session:
        (given_back,) = outbox_claims.claim_due_outbox(session, 10, 60)
    with session_scope() as session:
        outbox.release_claims(session, [(given_back.outbox_id, given_back.claimed_until)])
    results = drain(TwilioSender(settings_for(api)))
    assert [r.outcome for r in results] == [Outcome.SENT] and not api.state.list_times
