"""Officer replies: through the messaging layer to the Twilio stand-in, recorded, shown in the
transcript; WhatsApp's 24-hour window; kept pending when Twilio is not configured."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.console.schema import ConsoleReply
from bot.db import session_scope
from bot.records.schema import HumanRequest
from tests.console.conftest import ADRIANA, FAMILY, ROSA, login, make_app, token_of


@pytest.fixture
def standin(monkeypatch):
    from tests.support.standin import start_standin

    handle = start_standin(port=0, account_sid="ACtest", auth_token="test-token")
    for key, value in {
        "TWILIO_ACCOUNT_SID": "ACtest",
        "TWILIO_AUTH_TOKEN": "test-token",
        "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
        "TWILIO_SMS_FROM": "+15005550006",
        "TWILIO_API_BASE": handle.url,
        "TWILIO_SEND_ATTEMPTS": "2",
        "TWILIO_BACKOFF_BASE": "0.05",
        "TWILIO_STATUS_CALLBACKS": "false",
    }.items():
        monkeypatch.setenv(key, value)
    yield handle
    handle.stop()


def _reply(client, phone: str, body: str, medium: str, **extra):
    token = token_of(client, f"/conversaciones/{phone}")
    return client.post(
        f"/conversaciones/{phone}/responder",
        data={"csrf_token": token, "body": body, "medium": medium, **extra},
    )


def test_reply_without_twilio_is_kept_pending_and_shown(console_env, client_for):
    client = client_for("officer")
    response = _reply(client, ROSA, "Hola Rosa, su pago sale el viernes.", "whatsapp")
    assert response.status_code == 302
    page = client.get(f"/conversaciones/{ROSA}").get_data(as_text=True)
    assert "Hola Rosa, su pago sale el viernes." in page and "pendiente" in page
    assert "Personal: officer" in page
    with session_scope(console_env.url) as session:
        reply = session.execute(
            select(ConsoleReply).where(ConsoleReply.body == "Hola Rosa, su pago sale el viernes.")
        ).scalar_one()
        assert reply.status == "pending" and reply.medium == "whatsapp" and reply.farmer_id


def test_reply_through_the_standin_on_sms(console_env, client_for, standin):
    client = client_for("officer")
    with session_scope(console_env.url) as session:
        request_id = session.execute(select(HumanRequest.id).where(HumanRequest.phone == FAMILY)).scalar()
        session.get(HumanRequest, request_id).status = "open"
        session.get(HumanRequest, request_id).assigned_to = None
    body = "Buen día, soy Ana del programa. ¿Qué calibre entregó? Le llamo mañana."
    response = _reply(client, FAMILY, body, "sms", human_request_id=str(request_id))
    assert response.status_code == 302
    sent = standin.wait_for(1, to=FAMILY)
    assert len(sent) == 1
    assert sent[0]["from"] == "+15005550006"
    # shaped for a basic phone exactly as the bot's own SMS replies are (GSM-7: "día" -> "dia")
    from bot.messaging.formatting import pack_for_medium

    assert sent[0]["body"] == pack_for_medium("sms", [body])[0]
    assert sent[0]["body"].startswith("Buen dia,") and "entrego?" in sent[0]["body"]
    with session_scope(console_env.url) as session:
        reply = session.execute(select(ConsoleReply).where(ConsoleReply.body == body)).scalar_one()
        assert reply.status == "sent" and reply.twilio_sids == sent[0]["sid"]
        assert reply.human_request_id == request_id
        request = session.get(HumanRequest, request_id)
        assert request.status == "in_progress" and request.assigned_to == "officer"
    page = client.get(f"/conversaciones/{FAMILY}").get_data(as_text=True)
    assert body in page and "enviada" in page
    queue = client.get("/atencion").get_data(as_text=True)
    assert FAMILY in queue


def test_whatsapp_inside_the_window_goes_to_whatsapp(console_env, client_for, standin):
    client = client_for("officer")
    response = _reply(client, ROSA, "Su factura ya está programada.", "whatsapp")
    assert response.status_code == 302
    sent = standin.wait_for(1)
    assert sent[0]["to"] == "whatsapp:+5214431000001" and sent[0]["body"] == "Su factura ya está programada."


def test_whatsapp_outside_the_window_offers_sms_instead_of_failing(console_env, client_for, standin):
    client = client_for("officer")
    page = client.get(f"/conversaciones/{ADRIANA}").get_data(as_text=True)
    assert "ventana de 24 horas de WhatsApp: <strong>cerrada</strong>" in page
    assert '<option selected value="sms">' in page or 'value="sms" selected' in page
    response = _reply(client, ADRIANA, "¿Sigue interesada en la capacitación?", "whatsapp")
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "últimas 24 horas" in html and "SMS" in html
    assert "¿Sigue interesada en la capacitación?" in html  # the text is kept for the retry
    assert standin.messages() == []
    with session_scope(console_env.url) as session:
        assert session.execute(select(ConsoleReply).where(ConsoleReply.phone == ADRIANA)).first() is None
    response = _reply(client, ADRIANA, "¿Sigue interesada en la capacitación?", "sms")
    assert response.status_code == 302
    assert standin.wait_for(1)[0]["to"] == ADRIANA


def test_whatsapp_outside_the_window_with_the_approved_template(console_env, standin):
    app = make_app(console_env, whatsapp_template_sid="HXtemplate123")
    client = app.test_client()
    login(client, "officer")
    page = client.get(f"/conversaciones/{ADRIANA}").get_data(as_text=True)
    assert "plantilla aprobada" in page
    response = _reply(client, ADRIANA, "Ana del programa", "whatsapp", use_template="y")
    assert response.status_code == 302
    sent = standin.wait_for(1)
    assert sent[0]["content_sid"] == "HXtemplate123" and sent[0]["to"].startswith("whatsapp:")


def test_reply_to_an_opted_out_number_is_not_sent(console_env, client_for, standin):
    from bot.messaging.optout import record_opt

    with session_scope() as session:
        record_opt(session, ROSA, "opt_out", "BAJA", "whatsapp")
    try:
        client = client_for("officer")
        response = _reply(client, ROSA, "Mensaje que no debe salir", "whatsapp")
        follow = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "BAJA" in follow
        assert standin.messages() == []
    finally:
        with session_scope() as session:
            record_opt(session, ROSA, "opt_in", "ALTA", "whatsapp")


def test_reply_when_twilio_is_down_is_queued_not_lost(console_env, client_for, standin):
    standin.control(fail_next=10, fail_status=503)
    client = client_for("officer")
    response = _reply(client, FAMILY, "Prueba con Twilio caído", "sms")
    assert response.status_code == 302
    with session_scope(console_env.url) as session:
        reply = session.execute(
            select(ConsoleReply).where(ConsoleReply.body == "Prueba con Twilio caído")
        ).scalar_one()
        assert reply.status == "pending" and reply.error
