"""The conversation list (search, filters, dates, pages) and a phone's transcript (what the
assistant understood, delivery statuses, media), against real databases."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.db import session_scope
from tests.console.conftest import ADRIANA, FAMILY, ROSA, UNKNOWN, listed, make_app, senders


def test_list_all_with_counts(client_for):
    client = client_for("officer")
    html = client.get("/conversaciones").get_data(as_text=True)
    assert "<strong>4</strong> conversaciones encontradas" in html
    assert listed(client) == {ROSA, FAMILY, ADRIANA, UNKNOWN}
    assert "Rosa María Pérez Ruiz" in html and "no registrado" in html


@pytest.mark.parametrize(
    "query, expected",
    [
        ("?medio=sms", {FAMILY}),
        ("?medio=whatsapp", {ROSA, ADRIANA, UNKNOWN}),
        ("?intencion=ask_trainings", {ADRIANA}),
        ("?baja_confianza=1", {FAMILY, UNKNOWN}),
        ("?no_entendio=1", {FAMILY, UNKNOWN}),
        ("?pidio_persona=1", {FAMILY}),
        ("?q=kalibre", {FAMILY}),
        ("?q=capacitacion+de+calidad", {ADRIANA}),  # accents ignored: "capacitación"
        ("?q=perez", {ROSA}),  # farmer name, accents and case ignored
        ("?q=443+100+0001", {ROSA}),  # phone as staff type it
        ("?q=nadie-se-llama-asi", set()),
    ],
)
def test_search_and_filters(client_for, query, expected):
    assert listed(client_for("viewer"), query) == expected


def test_search_by_folio(client_for):
    """The folio of one of the two farmers sharing the phone (viewers' searches do not match
    folios: tests/security/test_console.py)."""
    assert listed(client_for("officer"), "?q=PP-630942") == {FAMILY}


def test_date_range_filter(client_for):
    client = client_for("viewer")
    today = datetime.now(timezone.utc).date()
    recent = listed(client, f"?desde={today - timedelta(days=7)}&hasta={today + timedelta(days=1)}")
    assert recent == {ROSA, FAMILY, ADRIANA}
    old = listed(client, f"?desde={today - timedelta(days=45)}&hasta={today - timedelta(days=35)}")
    assert old == {UNKNOWN}


def test_pagination(console_env):
    app = make_app(console_env, page_size=3)
    client = app.test_client()
    from tests.console.conftest import login

    login(client, "viewer")
    first = client.get("/conversaciones").get_data(as_text=True)
    second = client.get("/conversaciones?pagina=2").get_data(as_text=True)
    assert "1–3 de 4" in first and "Página 1 de 2" in first and "Siguiente" in first
    assert "4–4 de 4" in second and "Anterior" in second
    one = {s.replace("%2B", "+") for s in senders(first)}
    two = {s.replace("%2B", "+") for s in senders(second)}
    assert len(one) == 3 and len(two) == 1 and not one & two


def test_transcript_shows_nlu_delivery_and_media(console_env, client_for):
    from bot.messaging.schema import OutboundMessage

    with session_scope(console_env.url) as session:
        session.add(
            OutboundMessage(
                medium="whatsapp",
                phone=ROSA,
                to_address="whatsapp:+5214431000001",
                body="x",
                in_reply_to="SMrosa0002",
                status="delivered",
                twilio_sid="SMout-rosa-2",
            )
        )
    client = client_for("officer")
    html = client.get(f"/conversaciones/{ROSA}").get_data(as_text=True)
    assert "ask_payment_status" in html and "91 %" in html
    assert "invoice_folio=F-204518" in html
    assert "entregado" in html  # delivery status of the bot's reply
    assert "sin dato de entrega" in html  # the greeting's reply has no outbound record
    assert "Rosa María Pérez Ruiz" in html and "WhatsApp" in html
    family = client.get(f"/conversaciones/{FAMILY}").get_data(as_text=True)
    assert "el asistente no entendió (action_nlu_fallback)" in family
    assert 'class="low"' in family and "42 %" in family
    assert "Juan Hernández López" in family and "Guadalupe Hernández Soto" in family
    unknown = client.get(f"/conversaciones/{UNKNOWN}").get_data(as_text=True)
    assert "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1" in unknown
    assert "image/jpeg" in unknown and "Número no registrado" in unknown
    assert client.get("/conversaciones/+520000000000").status_code == 404
