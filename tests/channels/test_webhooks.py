"""Real signed requests against the WhatsApp and SMS channels in a real Sanic app, replies through
the Twilio stand-in over HTTP, records in the real database."""

from __future__ import annotations

import json
import random
import time

import pytest
from sqlalchemy import select

from bot.channels.twilio_channels import SmsInput
from bot.db import session_scope
from bot.messaging import inbound, optout, texts
from bot.messaging.delivery import send_proactive
from bot.messaging.formatting import is_gsm7, sms_parts
from bot.messaging.schema import InboundMessage, MessageStatusEvent, OutboundMessage, OutboxEntry
from bot.messaging.twilio_form import FormParams, parse_inbound
from bot.phones import twilio_address
from bot.timeutil import as_utc
from bot.twilio_standin.client import signed_post, webhook_params
from tests.channels.conftest import AUTH_TOKEN
from tests.support.polling import wait_until


def new_phone() -> str:
    return "+52443" + "".join(random.choice("0123456789") for _ in range(7))


def post(
    server,
    medium: str,
    params: dict,
    token: str = AUTH_TOKEN,
    path: str = "webhook",
    signed_url: str | None = None,
):
    url = f"{server.url}/webhooks/{medium}/{path}"
    public = signed_url or f"{server.settings.public_base_url}/webhooks/{medium}/{path}"
    return signed_post(url, params, token, public_url=public)


def inbound_rows(sid=None):
    with session_scope() as session:
        query = select(InboundMessage)
        if sid:
            query = query.where(InboundMessage.message_sid == sid)
        return session.execute(query).scalars().all()


def outbound_rows(phone):
    with session_scope() as session:
        return (
            session.execute(
                select(OutboundMessage).where(OutboundMessage.phone == phone).order_by(OutboundMessage.id)
            )
            .scalars()
            .all()
        )


def opted_out(phone) -> bool:
    with session_scope() as session:
        return optout.is_opted_out(session, phone)


def replies_to(standin, phone, medium, count=1, timeout=10):
    return standin.wait_for(count, to=twilio_address(phone, medium), timeout=timeout)


def test_whatsapp_message_is_acknowledged_at_once_and_answered(channels, standin):
    phone = new_phone()
    params = webhook_params(phone, "whatsapp", "¿Cuándo me pagan?", profile_name="Doña Rosa")
    status, body, _seconds = post(channels, "whatsapp", params)
    assert status == 200
    assert "<Response/>" in body
    sent = replies_to(standin, phone, "whatsapp")
    assert [m["body"] for m in sent] == ["Eco: ¿Cuándo me pagan?"]
    assert sent[0]["from"] == "whatsapp:+14155238886"
    assert sent[0]["to"] == f"whatsapp:+521{phone[3:]}"
    message = channels.assistant.received[-1]
    assert message.sender_id == phone
    assert message.message_id == params["MessageSid"]
    assert message.input_channel == "whatsapp"
    assert message.metadata == {
        "medium": "whatsapp",
        "message_sid": params["MessageSid"],
        "profile_name": "Doña Rosa",
        "wa_id": f"521{phone[3:]}",
        "num_media": 0,
        "media": [],
    }
    row = wait_until(lambda: [r for r in inbound_rows(params["MessageSid"]) if r.status == "processed"])
    assert row[0].phone == phone and row[0].kind == "text"
    # status callbacks from the stand-in reach the signed status endpoint and are recorded
    done = wait_until(lambda: [o for o in outbound_rows(phone) if o.status == "read"])
    assert done and done[0].twilio_sid == sent[0]["sid"]
    with session_scope() as session:
        events = (
            session.execute(
                select(MessageStatusEvent.status).where(MessageStatusEvent.twilio_sid == sent[0]["sid"])
            )
            .scalars()
            .all()
        )
    assert events == ["sent", "delivered", "read"]


def test_twilio_is_answered_before_the_turn_ends(channels, standin):
    """The webhook answers while the assistant is still working; the reply follows by REST."""
    phone = new_phone()
    assistant = channels.assistant
    assistant.release.clear()
    status, body, _seconds = post(channels, "sms", webhook_params(phone, "sms", "lento"))
    assert status == 200 and "<Response/>" in body
    assert standin.messages(to=twilio_address(phone, "sms")) == []  # the turn is still running
    assistant.release.set()
    assert [m["body"] for m in replies_to(standin, phone, "sms")] == ["Eco: lento"]


def test_a_turn_that_holds_its_thread_does_not_hold_up_the_next_webhook(channels, standin):
    """Rasa's inference blocks whatever runs it; the turn runs on a worker thread, so the web
    server still acknowledges another farmer's message while it computes."""
    first, second = new_phone(), new_phone()
    assistant = channels.assistant
    assistant.unblock.clear()
    try:
        status, _body, _seconds = post(channels, "sms", webhook_params(first, "sms", "bloquea"))
        assert status == 200
        wait_until(lambda: any(m.text == "bloquea" for m in assistant.received))
        status, body, _seconds = post(channels, "whatsapp", webhook_params(second, "whatsapp", "hola"))
        assert status == 200 and "<Response/>" in body
        assert not assistant.unblock.is_set()  # answered while the first turn still held its thread
        assert any(row.phone == second for row in inbound_rows())  # and stored
    finally:
        assistant.unblock.set()
    assert [m["body"] for m in replies_to(standin, first, "sms")] == ["Eco: bloquea"]
    assert [m["body"] for m in replies_to(standin, second, "whatsapp")] == ["Eco: hola"]


def test_content_type_is_twiml(channels):
    import urllib.parse
    import urllib.request

    from twilio.request_validator import RequestValidator

    params = webhook_params(new_phone(), "sms", "hola")
    url = f"{channels.url}/webhooks/sms/webhook"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        f"{channels.settings.public_base_url}/webhooks/sms/webhook", params
    )
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode(params).encode(), headers={"X-Twilio-Signature": signature}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/xml")


def test_sms_and_whatsapp_of_one_farmer_share_the_conversation(channels, standin):
    phone = new_phone()
    post(channels, "whatsapp", webhook_params(phone, "whatsapp", "hola"))
    post(channels, "sms", webhook_params(phone, "sms", "otra vez"))
    replies_to(standin, phone, "sms")
    senders = {m.sender_id for m in channels.assistant.received}
    assert senders == {phone}
    assert {m.metadata["medium"] for m in channels.assistant.received} == {"whatsapp", "sms"}


@pytest.mark.parametrize("case", ["unsigned", "forged", "other_url", "tampered"])
def test_bad_signatures_get_403_and_reach_nothing(channels, standin, case, caplog):
    phone = new_phone()
    params = webhook_params(phone, "sms", "quiero mi pago")
    url = f"{channels.url}/webhooks/sms/webhook"
    if case == "unsigned":
        import urllib.parse
        import urllib.request

        request = urllib.request.Request(url, data=urllib.parse.urlencode(params).encode())
        try:
            urllib.request.urlopen(request, timeout=10)
            status = 200
        except urllib.error.HTTPError as error:
            status = error.code
    elif case == "forged":
        status, _, _ = post(channels, "sms", params, token="not-the-token")
    elif case == "other_url":
        status, _, _ = post(channels, "sms", params, signed_url="https://evil.example/webhooks/sms/webhook")
    else:
        signature_params = dict(params)
        params = dict(params, Body="pagar a otra cuenta")
        import urllib.parse
        import urllib.request

        from twilio.request_validator import RequestValidator

        signature = RequestValidator(AUTH_TOKEN).compute_signature(
            f"{channels.settings.public_base_url}/webhooks/sms/webhook", signature_params
        )
        request = urllib.request.Request(
            url, data=urllib.parse.urlencode(params).encode(), headers={"X-Twilio-Signature": signature}
        )
        try:
            urllib.request.urlopen(request, timeout=10)
            status = 200
        except urllib.error.HTTPError as error:
            status = error.code
    assert status == 403
    time.sleep(0.3)
    assert inbound_rows(params["MessageSid"]) == []
    assert channels.assistant.received == []
    assert standin.messages() == []
    # the log line says what happened without the farmer's number or words
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert phone not in logged and phone[3:] not in logged and "pago" not in logged


def test_status_endpoint_requires_a_signature(channels):
    params = {"MessageSid": "SMx", "MessageStatus": "delivered"}
    status, _, _ = post(channels, "sms", params, token="wrong", path="status")
    assert status == 403


def test_replayed_message_sid_is_answered_once(channels, standin):
    phone = new_phone()
    params = webhook_params(phone, "whatsapp", "mis capacitaciones")
    first = post(channels, "whatsapp", params)
    second = post(channels, "whatsapp", params)
    replies_to(standin, phone, "whatsapp")
    third = post(channels, "whatsapp", params)
    assert first[0] == second[0] == third[0] == 200
    time.sleep(0.5)
    assert len(inbound_rows(params["MessageSid"])) == 1
    assert len(channels.assistant.received) == 1
    assert len(standin.messages(to=twilio_address(phone, "whatsapp"))) == 1


@pytest.mark.parametrize(
    "body", ["", "   ", "😀🙏🏽🌽", "x" * 1600, "What time is the training?", "Wie spät ist es?"]
)
def test_odd_bodies_never_fail(channels, standin, body):
    phone = new_phone()
    params = webhook_params(phone, "sms", body)
    status, _, _ = post(channels, "sms", params)
    assert status == 200
    sent = replies_to(standin, phone, "sms")
    assert sent, "every message gets an answer"
    assert channels.assistant.received[-1].text == body.strip()
    for message in sent:
        assert is_gsm7(message["body"]) and message["num_segments"] <= 3
    stored = inbound_rows(params["MessageSid"])[0]
    assert stored.body == body


@pytest.mark.parametrize("content_type", ["audio/ogg", "image/jpeg", "video/mp4", "application/pdf"])
def test_media_only_reaches_the_conversation_as_send_media_with_its_files(channels, standin, content_type):
    """Nothing for the NLU to read: the assistant gets intent send_media and the files in the
    metadata (so the tracker and the console keep them), and its reply goes out."""
    phone = new_phone()
    media_url = "https://api.twilio.com/2010-04-01/Accounts/ACtest/Messages/MM1/Media/ME1"
    params = webhook_params(phone, "whatsapp", "", media=[(media_url, content_type)])
    assert post(channels, "whatsapp", params)[0] == 200
    sent = replies_to(standin, phone, "whatsapp")
    assert sent[0]["body"] == f"Archivo: {content_type}"
    message = channels.assistant.received[-1]
    assert message.text == "" and message.message_id == params["MessageSid"]
    assert message.parse_data["intent"] == {"name": "send_media", "confidence": 1.0}
    assert message.metadata["media"] == [{"url": media_url, "content_type": content_type}]
    row = wait_until(lambda: [r for r in inbound_rows(params["MessageSid"]) if r.status == "processed"])[0]
    assert row.kind == "media" and row.num_media == 1
    assert json.loads(row.media_json) == [{"url": media_url, "content_type": content_type}]


def test_media_with_a_caption_goes_to_the_assistant_with_the_media(channels, standin):
    phone = new_phone()
    params = webhook_params(
        phone, "whatsapp", "así salió mi aguacate", media=[("https://api.twilio.com/m/ME2", "image/jpeg")]
    )
    post(channels, "whatsapp", params)
    replies_to(standin, phone, "whatsapp")
    metadata = channels.assistant.received[-1].metadata
    assert metadata["num_media"] == 1
    assert metadata["media"] == [{"url": "https://api.twilio.com/m/ME2", "content_type": "image/jpeg"}]


def test_whatsapp_location_asks_for_trainings_near_it(channels, standin):
    phone = new_phone()
    params = webhook_params(phone, "whatsapp", "", location=(19.4128, -102.0561, "Uruapan"))
    post(channels, "whatsapp", params)
    sent = replies_to(standin, phone, "whatsapp")
    message = channels.assistant.received[-1]
    assert message.text == "/ask_trainings"
    assert message.metadata["location"] == {"latitude": 19.4128, "longitude": -102.0561, "label": "Uruapan"}
    assert sent[0]["body"] == "Capacitaciones cerca de 19.4128,-102.0561"
    row = inbound_rows(params["MessageSid"])[0]
    assert row.kind == "location" and float(row.latitude) == pytest.approx(19.4128)


@pytest.mark.parametrize("word", ["BAJA", "baja", "Alto", "STOP", "cancelár", "¡Cancelar!"])
def test_opt_out_words_are_confirmed_and_recorded(channels, standin, word):
    phone = new_phone()
    post(channels, "sms", webhook_params(phone, "sms", word))
    sent = replies_to(standin, phone, "sms")
    assert "ya no le enviaremos avisos" in sent[0]["body"]
    assert is_gsm7(sent[0]["body"])
    assert channels.assistant.received == []
    assert opted_out(phone)


def test_alta_resubscribes_and_opted_out_numbers_get_no_proactive_messages(channels, standin):
    phone = new_phone()
    post(channels, "whatsapp", webhook_params(phone, "whatsapp", "BAJA"))
    replies_to(standin, phone, "whatsapp")
    assert (
        channels.call(
            send_proactive(
                channels.runtime.sender, phone=phone, medium="whatsapp", text="Nueva capacitación el sábado"
            )
        )
        == []
    )
    assert [o.status for o in outbound_rows(phone)][-1] == "skipped_opt_out"
    post(channels, "whatsapp", webhook_params(phone, "whatsapp", "Alta"))
    sent = replies_to(standin, phone, "whatsapp", count=2)
    assert "Volverá a recibir avisos" in sent[1]["body"]
    assert not opted_out(phone)
    results = channels.call(
        send_proactive(
            channels.runtime.sender, phone=phone, medium="whatsapp", text="Nueva capacitación el sábado"
        )
    )
    assert results and results[0].ok
    assert replies_to(standin, phone, "whatsapp", count=3)[2]["body"] == "Nueva capacitación el sábado"


def test_twilio_500_then_201_is_delivered_after_retries(channels, standin):
    phone = new_phone()
    standin.control(fail_next=2, fail_status=500)
    post(channels, "sms", webhook_params(phone, "sms", "hola"))
    sent = replies_to(standin, phone, "sms")
    assert [m["body"] for m in sent] == ["Eco: hola"]
    assert standin.attempts() == 3
    row = wait_until(lambda: [o for o in outbound_rows(phone) if o.twilio_sid])[0]
    assert row.attempts == 3
    assert wait_until(lambda: outbound_rows(phone)[0].status == "delivered")


def test_twilio_429_is_retried(channels, standin):
    phone = new_phone()
    standin.control(fail_next=1, fail_status=429)
    post(channels, "sms", webhook_params(phone, "sms", "hola"))
    assert replies_to(standin, phone, "sms")[0]["body"] == "Eco: hola"


def test_twilio_retry_after_is_waited_before_the_next_try(channels, standin):
    """Back-off here is 0.05 s; Twilio asks for 1 s, and the second try waits for it."""
    phone = new_phone()
    standin.control(fail_next=1, fail_status=429, retry_after="1")
    post(channels, "sms", webhook_params(phone, "sms", "hola"))
    assert replies_to(standin, phone, "sms")[0]["body"] == "Eco: hola"
    first, second = standin.attempt_times()[-2:]
    assert second - first >= 0.95


def test_a_long_retry_after_leaves_the_reply_to_the_outbox_until_then(channels, standin):
    """A wait longer than our back-off is not slept through: the reply goes to the outbox, which
    does not try before Twilio said."""
    phone = new_phone()
    standin.control(fail_next=1, fail_status=429, retry_after="120")
    post(channels, "sms", webhook_params(phone, "sms", "hola"))
    row = wait_until(lambda: outbound_rows(phone) and outbound_rows(phone)[0])
    assert row.status == "outbox" and row.attempts == 1
    with session_scope() as session:
        entry = session.execute(select(OutboxEntry)).scalars().one()
        due_in = (as_utc(entry.next_attempt_at) - as_utc(row.status_at)).total_seconds()
    assert 119 <= due_in <= 121
    channels.call(channels.runtime.worker.run_once())
    assert standin.attempts() == 1 and standin.messages() == []


def test_twilio_down_keeps_the_reply_in_the_outbox_until_it_is_back(channels, standin):
    phone = new_phone()
    standin.control(down=True)
    post(channels, "whatsapp", webhook_params(phone, "whatsapp", "¿hay capacitaciones?"))
    entry = wait_until(lambda: outbound_rows(phone) and outbound_rows(phone)[0].status == "outbox")
    assert entry
    with session_scope() as session:
        pending = session.execute(select(OutboxEntry).where(OutboxEntry.done_at.is_(None))).scalars().all()
    assert len(pending) == 1
    time.sleep(1.2)  # worker rounds while Twilio is still down: nothing lost, nothing sent
    assert standin.messages() == []
    standin.control(down=False)
    sent = replies_to(standin, phone, "whatsapp", timeout=15)
    assert [m["body"] for m in sent] == ["Eco: ¿hay capacitaciones?"]
    row = wait_until(lambda: outbound_rows(phone)[0].twilio_sid and outbound_rows(phone)[0])
    assert row.twilio_sid == sent[0]["sid"]
    with session_scope() as session:
        entry = session.execute(select(OutboxEntry)).scalars().one()
    assert entry.done_at is not None and not entry.gave_up


def test_unsubscribed_recipient_is_recorded_as_opt_out_not_retried(channels, standin):
    phone = new_phone()
    standin.control(unsubscribed=[phone])
    post(channels, "sms", webhook_params(phone, "sms", "hola"))
    assert wait_until(lambda: opted_out(phone))
    row = wait_until(
        lambda: (
            outbound_rows(phone) and outbound_rows(phone)[0].status == "failed" and outbound_rows(phone)[0]
        )
    )
    assert row.error_code == "21610"


def test_status_callbacks_are_recorded_and_never_move_backwards(channels, standin):
    phone = new_phone()
    standin.control(statuses=[])  # no automatic callbacks: this test posts them itself
    post(channels, "sms", webhook_params(phone, "sms", "hola"))
    sid = replies_to(standin, phone, "sms")[0]["sid"]
    wait_until(lambda: outbound_rows(phone) and outbound_rows(phone)[0].twilio_sid)
    for state in ("queued", "sent", "delivered", "sent"):
        status, _, _ = post(
            channels,
            "sms",
            {"MessageSid": sid, "MessageStatus": state, "AccountSid": "ACtest"},
            path="status",
        )
        assert status == 200
    assert outbound_rows(phone)[0].status == "delivered"
    status, _, _ = post(
        channels,
        "sms",
        {"MessageSid": "SMunknown", "MessageStatus": "failed", "ErrorCode": "30003"},
        path="status",
    )
    assert status == 200
    with session_scope() as session:
        statuses = (
            session.execute(
                select(MessageStatusEvent.status)
                .where(MessageStatusEvent.twilio_sid == sid)
                .order_by(MessageStatusEvent.id)
            )
            .scalars()
            .all()
        )
    assert statuses == ["queued", "sent", "delivered", "sent"]


def test_undelivered_is_recorded(channels, standin):
    phone = new_phone()
    standin.control(statuses=["sent", "undelivered"])
    post(channels, "sms", webhook_params(phone, "sms", "hola"))
    assert wait_until(lambda: outbound_rows(phone) and outbound_rows(phone)[0].status == "undelivered")
    assert outbound_rows(phone)[0].error_code == "30003"


def test_sms_turn_is_one_gsm7_body_with_the_options_inside(channels, standin):
    phone = new_phone()
    channels.assistant.replies["menu"] = [
        "¡Hola, *Rosa*! 👋 Soy el asistente del programa.",
        "¿Qué desea consultar?\n1. Pagos 💰\n2. Capacitaciones\n3. Estándares de calidad",
    ]
    post(channels, "sms", webhook_params(phone, "sms", "menu"))
    sent = replies_to(standin, phone, "sms")
    time.sleep(0.3)
    sent = standin.messages(to=phone)
    assert len(sent) == 1
    body = sent[0]["body"]
    assert body == (
        "¡Hola, Rosa! Soy el asistente del programa.\n\n¿Qué desea consultar?\n"
        "1. Pagos\n2. Capacitaciones\n3. Estandares de calidad"
    )
    assert is_gsm7(body) and sms_parts(body).parts == 1


def test_whatsapp_keeps_accents_emoji_bold_and_buttons_become_a_list(channels, standin):
    phone = new_phone()
    channels.assistant.replies["menu"] = [
        {
            "text": "¿Qué desea consultar? 🌽",
            "buttons": [
                {"title": "Pagos", "payload": "/ask_payments"},
                {"title": "Capacitaciones", "payload": "/ask_trainings"},
            ],
        },
    ]
    post(channels, "whatsapp", webhook_params(phone, "whatsapp", "menu"))
    replies_to(standin, phone, "whatsapp")
    time.sleep(0.3)
    assert [m["body"] for m in standin.messages(to=twilio_address(phone, "whatsapp"))] == [
        "¿Qué desea consultar? 🌽\n1. Pagos\n2. Capacitaciones"
    ]


def test_a_failing_assistant_still_answers_kindly(channels, standin):
    phone = new_phone()
    params = webhook_params(phone, "whatsapp", "explota")
    post(channels, "whatsapp", params)
    sent = replies_to(standin, phone, "whatsapp")
    assert sent[0]["body"] == texts.TURN_FAILED
    row = wait_until(lambda: [r for r in inbound_rows(params["MessageSid"]) if r.status == "failed"])
    assert row[0].error == "RuntimeError"


def test_one_farmers_turns_are_answered_in_order(channels, standin):
    phone = new_phone()
    for word in ("uno", "dos", "tres", "cuatro"):
        post(channels, "sms", webhook_params(phone, "sms", word))
    sent = replies_to(standin, phone, "sms", count=4)
    assert [m["body"] for m in sent] == ["Eco: uno", "Eco: dos", "Eco: tres", "Eco: cuatro"]


def test_database_outage_spools_the_message_and_stores_it_later(channels, standin, monkeypatch):
    phone = new_phone()
    params = webhook_params(phone, "sms", "hola sin base")
    good = __import__("os").environ["DATABASE_URL"]
    monkeypatch.setenv("DATABASE_URL", "sqlite:////proc/no-such-dir/program.db")
    status, _, _ = post(channels, "sms", params)
    assert status == 200
    # the farmer is still answered (the reply record fails and is logged)
    assert replies_to(standin, phone, "sms")[0]["body"] == "Eco: hola sin base"
    monkeypatch.setenv("DATABASE_URL", good)
    stored = wait_until(lambda: inbound_rows(params["MessageSid"]), timeout=10)
    assert stored and stored[0].body == "hola sin base"
    # and a Twilio retry of it is still recognised
    post(channels, "sms", params)
    time.sleep(0.3)
    assert len(channels.assistant.received) == 1


def test_a_message_left_unanswered_by_a_crash_is_answered_at_start_up(channels, standin):
    """Stored, then the process died before the turn: the next start-up answers it."""
    from datetime import timedelta

    from sqlalchemy import update

    from bot.timeutil import utcnow

    phone = new_phone()
    params = webhook_params(phone, "whatsapp", "¿sigue ahí?")
    message = parse_inbound("whatsapp", FormParams({k: [v] for k, v in params.items()}))
    with session_scope() as session:
        assert inbound.store_inbound(session, message)
    with session_scope() as session:
        session.execute(
            update(InboundMessage)
            .where(InboundMessage.message_sid == params["MessageSid"])
            .values(received_at=utcnow() - timedelta(minutes=3))
        )
    channels.call(channels.runtime.worker.run_once(startup=True))
    assert [m["body"] for m in replies_to(standin, phone, "whatsapp")] == ["Eco: ¿sigue ahí?"]
    row = wait_until(lambda: [r for r in inbound_rows(params["MessageSid"]) if r.status == "processed"])
    assert row and row[0].attempts == 1


def test_rasa_proactive_output_channel_respects_opt_out(channels, standin):
    """What Rasa sends via trigger_intent?output_channel=sms goes through the channel."""
    phone = new_phone()
    output = SmsInput(channels.settings).get_output_channel()
    channels.call(output.send_text_message(phone, "Recordatorio: *capacitación* mañana 🌽"))
    assert [m["body"] for m in replies_to(standin, phone, "sms")] == ["Recordatorio: capacitacion mañana"]
    with session_scope() as session:
        optout.record_opt(session, phone, "opt_out", "baja", "sms")
    channels.call(output.send_text_message(phone, "Otro aviso"))
    time.sleep(0.3)
    assert len(standin.messages(to=phone)) == 1
    assert outbound_rows(phone)[-1].status == "skipped_opt_out"


def test_whatsapp_template_outside_the_24_hour_window(channels, standin):
    phone = new_phone()
    results = channels.call(
        send_proactive(
            channels.runtime.sender,
            phone=phone,
            medium="whatsapp",
            content_sid="HX0123456789abcdef",
            content_variables={"1": "F-204518", "2": "vie 5 dic"},
        )
    )
    assert results and results[0].ok
    sent = replies_to(standin, phone, "whatsapp")[0]
    assert sent["to"] == f"whatsapp:+521{phone[3:]}"
    assert sent["content_sid"] == "HX0123456789abcdef"
    assert json.loads(sent["content_variables"]) == {"1": "F-204518", "2": "vie 5 dic"}
    row = outbound_rows(phone)[0]
    assert row.proactive and row.content_sid == "HX0123456789abcdef"
