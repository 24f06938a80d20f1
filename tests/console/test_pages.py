"""Each page's rules against real databases: conversation search and filters, transcript,
review, corrections and their NLU export, the handover queue, CSV upload, dashboard."""
from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text

from bot.console.schema import ConsoleCorrection, ConsoleMessage, ConsoleReply, ConsoleReview
from bot.db import session_scope
from bot.records.schema import Farmer, HumanRequest, Invoice, Training
from tests.console.conftest import ADRIANA, FAMILY, ROSA, UNKNOWN, make_app, token_of


def senders(html: str) -> set[str]:
    return set(re.findall(r'href="/conversaciones/(%2B\d+|\+\d+)"', html))


def listed(client, query: str = "") -> set[str]:
    html = client.get(f"/conversaciones{query}").get_data(as_text=True)
    return {s.replace("%2B", "+") for s in senders(html)}


def tracker_fingerprint(url: str) -> str:
    from bot.console.tracker import tracker_engine

    with tracker_engine(url).connect() as conn:
        rows = conn.execute(text("SELECT id, sender_id, type_name, timestamp, data FROM events ORDER BY id")).all()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_list_all_with_counts(client_for):
    client = client_for("officer")
    html = client.get("/conversaciones").get_data(as_text=True)
    assert "<strong>4</strong> conversaciones encontradas" in html
    assert listed(client) == {ROSA, FAMILY, ADRIANA, UNKNOWN}
    assert "Rosa María Pérez Ruiz" in html and "no registrado" in html


@pytest.mark.parametrize("query, expected", [
    ("?medio=sms", {FAMILY}),
    ("?medio=whatsapp", {ROSA, ADRIANA, UNKNOWN}),
    ("?intencion=ask_trainings", {ADRIANA}),
    ("?baja_confianza=1", {FAMILY, UNKNOWN}),
    ("?no_entendio=1", {FAMILY, UNKNOWN}),
    ("?pidio_persona=1", {FAMILY}),
    ("?q=kalibre", {FAMILY}),
    ("?q=capacitacion+de+calidad", {ADRIANA}),  # accents ignored: "capacitación"
    ("?q=perez", {ROSA}),  # farmer name, accents and case ignored
    ("?q=PP-630942", {FAMILY}),  # folio of one of the two farmers sharing the phone
    ("?q=443+100+0001", {ROSA}),  # phone as staff type it
    ("?q=nadie-se-llama-asi", set()),
])
def test_search_and_filters(client_for, query, expected):
    assert listed(client_for("viewer"), query) == expected


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
        session.add(OutboundMessage(medium="whatsapp", phone=ROSA, to_address="whatsapp:+5214431000001",
                                    body="x", in_reply_to="SMrosa0002", status="delivered",
                                    twilio_sid="SMout-rosa-2"))
    client = client_for("officer")
    html = client.get(f"/conversaciones/{ROSA}").get_data(as_text=True)
    assert "ask_payment_status" in html and "91 %" in html
    assert "invoice_folio=F-204518" in html
    assert "entregado" in html  # delivery status of the bot's reply
    assert "sin dato de entrega" in html  # the greeting's reply has no outbound record
    assert "Rosa María Pérez Ruiz" in html and "WhatsApp" in html
    family = client.get(f"/conversaciones/{FAMILY}").get_data(as_text=True)
    assert "el asistente no entendió (action_clarify)" in family
    assert 'class="low"' in family and "42 %" in family
    assert "Juan Hernández López" in family and "Guadalupe Hernández Soto" in family
    unknown = client.get(f"/conversaciones/{UNKNOWN}").get_data(as_text=True)
    assert "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1" in unknown
    assert "image/jpeg" in unknown and "Número no registrado" in unknown
    assert client.get("/conversaciones/+520000000000").status_code == 404


def test_review_tags_note_and_not_reviewed_filter(console_env, client_for):
    client = client_for("officer")
    assert ADRIANA in listed(client, "?sin_revisar=1")
    token = token_of(client, f"/conversaciones/{ADRIANA}")
    response = client.post(f"/conversaciones/{ADRIANA}/revision", data={
        "csrf_token": token, "reviewed": "y", "tags": "Capacitaciones, calidad,  calidad",
        "note": "Pregunta bien contestada."})
    assert response.status_code == 302
    with session_scope(console_env.url) as session:
        review = session.execute(select(ConsoleReview).where(ConsoleReview.sender_id == ADRIANA)).scalar_one()
        assert review.reviewed and review.tags == "capacitaciones,calidad"
        assert review.reviewed_by == "officer" and review.note == "Pregunta bien contestada."
    assert ADRIANA not in listed(client, "?sin_revisar=1")
    html = client.get(f"/conversaciones/{ADRIANA}").get_data(as_text=True)
    assert "Revisada por officer" in html


def test_new_message_after_review_makes_it_unreviewed_again(console_env, client_for):
    from tests.console.conftest import _bot, _event_time, _user, write_events

    client = client_for("officer")
    token = token_of(client, f"/conversaciones/{UNKNOWN}")
    client.post(f"/conversaciones/{UNKNOWN}/revision", data={"csrf_token": token, "reviewed": "y"})
    assert UNKNOWN not in listed(client, "?sin_revisar=1")
    write_events(console_env.tracker_url, {UNKNOWN: [
        _user("¿me pueden ayudar?", "help", 0.77, _event_time(0.5), "whatsapp", "SMunk0002"),
        _bot("Claro. Escriba 1 para pagos.", _event_time(0.5, 1)),
    ]})
    assert UNKNOWN in listed(client, "?sin_revisar=1")


def test_correct_intent_and_entities_then_export(console_env, client_for):
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    client = client_for("officer")
    with session_scope(console_env.url) as session:
        event_id = session.execute(select(ConsoleMessage.event_id).where(
            ConsoleMessage.message_id == "SMfam0001")).scalar_one()
    token = token_of(client, f"/conversaciones/{FAMILY}")
    prefix = f"c{event_id}"
    bad = client.post(f"/conversaciones/{FAMILY}/correccion/{event_id}", data={
        "csrf_token": token, f"{prefix}-event_id": event_id, f"{prefix}-intent": "ask_avocado_size",
        f"{prefix}-entities": "calibre: 99"})
    assert bad.status_code == 422 and "no aparece en el mensaje" in bad.get_data(as_text=True)
    unknown_intent = client.post(f"/conversaciones/{FAMILY}/correccion/{event_id}", data={
        "csrf_token": token, f"{prefix}-event_id": event_id, f"{prefix}-intent": "invented_intent"})
    assert unknown_intent.status_code == 302
    response = client.post(f"/conversaciones/{FAMILY}/correccion/{event_id}", data={
        "csrf_token": token, f"{prefix}-event_id": event_id, f"{prefix}-intent": "ask_avocado_size",
        f"{prefix}-entities": "calibre: 32\nproduct: aguacate"})
    assert response.status_code == 302
    with session_scope(console_env.url) as session:
        correction = session.execute(select(ConsoleCorrection).where(
            ConsoleCorrection.event_id == event_id)).scalar_one()
        assert correction.original_intent == "ask_avocado_size" and correction.corrected_by == "officer"
    exported = client.get("/correcciones/nlu_correcciones.yml")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["Content-Disposition"]
    body = exported.get_data(as_text=True)
    assert body.startswith('version: "3.1"\nnlu:\n- intent: ask_avocado_size\n  examples: |\n')
    assert "    - kiero saber del kalibre [32](calibre) de [aguacate](product)" in body
    data = RasaYAMLReader().reads(body)
    examples = [m for m in data.training_examples if m.get("intent") == "ask_avocado_size"]
    assert examples and {e["entity"] for e in examples[0].get("entities")} == {"calibre", "product"}
    # the transcript shows the correction; Rasa's own events are untouched
    html = client.get(f"/conversaciones/{FAMILY}").get_data(as_text=True)
    assert "corregida a ask_avocado_size" in html


def test_synonym_correction_exports_as_json_entity(console_env):
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    from bot.console.data import corrections_yaml, save_correction

    with session_scope(console_env.url) as session:
        event_id = session.execute(select(ConsoleMessage.event_id).where(
            ConsoleMessage.message_id == "SMadr0001")).scalar_one()
        save_correction(session, event_id=event_id, intent="ask_trainings",
                        entities_text="training_topic: calidad = calidad e inocuidad", username="t")
        body = corrections_yaml(session)
    assert '[calidad]{"entity": "training_topic", "value": "calidad e inocuidad"}' in body
    messages = RasaYAMLReader().reads(body).training_examples
    assert any(e["value"] == "calidad e inocuidad" for m in messages for e in m.get("entities") or [])


def test_console_never_writes_rasa_events(console_env, client_for):
    before = tracker_fingerprint(console_env.tracker_url)
    client = client_for("officer")
    for path in ("/conversaciones", f"/conversaciones/{FAMILY}", "/panel"):
        client.get(path)
    token = token_of(client, f"/conversaciones/{FAMILY}")
    client.post(f"/conversaciones/{FAMILY}/revision", data={"csrf_token": token, "tags": "x"})
    assert tracker_fingerprint(console_env.tracker_url) == before
    if console_env.kind == "sqlite":
        from bot.console.tracker import tracker_engine

        with pytest.raises(Exception, match="readonly|read-only|read only"):
            with tracker_engine(console_env.tracker_url).begin() as conn:
                conn.execute(text("DELETE FROM events"))


def test_sync_is_incremental_and_survives_a_tracker_reset(console_env):
    from contextlib import contextmanager

    from sqlalchemy.orm import sessionmaker

    from bot.console import tracker
    from bot.db import engine

    factory = sessionmaker(bind=engine(console_env.url), future=True)

    @contextmanager
    def session_factory():
        with factory() as session:
            yield session

    tracker.sync(session_factory, console_env.tracker_url)
    assert tracker.sync(session_factory, console_env.tracker_url) == 0
    with session_scope(console_env.url) as session:
        users = session.execute(select(func.count(ConsoleMessage.id)).where(ConsoleMessage.kind == "user")).scalar()
        bots = session.execute(select(ConsoleMessage).where(ConsoleMessage.kind == "bot",
                                                            ConsoleMessage.sender_id == FAMILY)).scalars().all()
    assert users >= 6
    assert bots[0].in_reply_to == "SMfam0001" and bots[0].medium == "sms"


def test_handover_queue_assign_and_close(console_env, client_for):
    client = client_for("officer")
    html = client.get("/atencion").get_data(as_text=True)
    assert FAMILY in html and "sin respuesta" in html
    with session_scope(console_env.url) as session:
        request_id = session.execute(select(HumanRequest.id).where(HumanRequest.phone == FAMILY)).scalar()
    token = token_of(client, "/atencion")
    prefix = f"h{request_id}"
    response = client.post(f"/atencion/{request_id}", data={
        "csrf_token": token, f"{prefix}-assigned_to": "officer", f"{prefix}-status": "in_progress"})
    assert response.status_code == 302
    mine = client.get("/atencion?mias=1").get_data(as_text=True)
    assert FAMILY in mine
    response = client.post(f"/atencion/{request_id}", data={
        "csrf_token": token, f"{prefix}-assigned_to": "nadie-asi", f"{prefix}-status": "closed"})
    with session_scope(console_env.url) as session:
        row = session.get(HumanRequest, request_id)
        assert row.assigned_to == "officer" and row.status == "in_progress"  # invalid choice refused
    client.post(f"/atencion/{request_id}", data={
        "csrf_token": token, f"{prefix}-assigned_to": "officer", f"{prefix}-status": "closed"})
    with session_scope(console_env.url) as session:
        row = session.get(HumanRequest, request_id)
        assert row.status == "closed" and row.closed_at is not None
    assert FAMILY not in client.get("/atencion").get_data(as_text=True)
    assert FAMILY in client.get("/atencion?estado=closed").get_data(as_text=True)
    client.post(f"/atencion/{request_id}", data={
        "csrf_token": token, f"{prefix}-assigned_to": "", f"{prefix}-status": "open"})
    with session_scope(console_env.url) as session:
        row = session.get(HumanRequest, request_id)
        assert row.status == "open" and row.closed_at is None and row.assigned_to is None


def _upload(client, kind: str, content: str, name: str = "archivo.csv"):
    from io import BytesIO

    token = token_of(client, "/importar")
    return client.post("/importar", data={"csrf_token": token, "kind": kind,
                                          "file": (BytesIO(content.encode("utf-8")), name)},
                       content_type="multipart/form-data")


INVOICE_HEADER = "folio,farmer_folio,amount_mxn,status,status_reason,issued_on,scheduled_on,paid_on,bank_reference_last4\n"


def test_csv_upload_preview_shows_rejected_rows_and_cannot_apply(console_env, client_for):
    client = client_for("officer")
    content = INVOICE_HEADER + (
        "F-900001,PP-518204,1500.50,scheduled,,2026-11-01,2026-12-05,,\n"
        "F-900002,PP-518204,abc,paid,,2026-11-01,,,\n"
        "F-900003,PP-518204,100,on_hold,,2026-11-01,,,\n")
    response = _upload(client, "invoices", content)
    assert response.status_code == 302
    preview = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<strong>1</strong> fila(s) válidas" in preview and "<strong>2</strong> fila(s) rechazadas" in preview
    assert "amount_mxn: no es un monto" in preview and "necesita status_reason" in preview
    assert "Aplicar las" not in preview
    upload_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    token = token_of(client, f"/importar/{upload_id}")
    client.post(f"/importar/{upload_id}/aplicar", data={"csrf_token": token})
    with session_scope(console_env.url) as session:
        assert session.execute(select(Invoice).where(Invoice.folio == "F-900001")).first() is None


def test_csv_upload_is_all_or_nothing(console_env, client_for):
    client = client_for("officer")
    content = INVOICE_HEADER + (
        "F-900011,PP-518204,1500.50,scheduled,,2026-11-01,2026-12-05,,\n"
        "F-900012,PP-000000,900,received,,2026-11-02,,,\n")  # unknown farmer: found on apply
    response = _upload(client, "invoices", content)
    location = response.headers["Location"]
    preview = client.get(location).get_data(as_text=True)
    assert "Aplicar las 2 filas" in preview
    token = token_of(client, location)
    applied = client.post(f"{location}/aplicar", data={"csrf_token": token}, follow_redirects=True)
    assert "No se aplicó nada: productores no registrados: PP-000000" in applied.get_data(as_text=True)
    with session_scope(console_env.url) as session:
        assert session.execute(select(Invoice).where(Invoice.folio == "F-900011")).first() is None


def test_csv_upload_applies_invoices_and_trainings(console_env, client_for):
    client = client_for("officer")
    response = _upload(client, "invoices", INVOICE_HEADER +
                       "F-900021,PP-518204,2450.00,paid,,2026-11-01,,2026-11-20,1234\n")
    location = response.headers["Location"]
    token = token_of(client, location)
    done = client.post(f"{location}/aplicar", data={"csrf_token": token}, follow_redirects=True)
    assert "se aplicaron 1 filas" in done.get_data(as_text=True)
    again = client.post(f"{location}/aplicar", data={"csrf_token": token}, follow_redirects=True)
    assert "ya se aplicó" in again.get_data(as_text=True)
    trainings = ("code,topic,title,description,starts_local,timezone,venue,municipality,state,capacity,latitude,longitude\n"
                 "CAP-9001,calidad,Inocuidad en empaque,Buenas prácticas de empaque.,2030-02-10 10:00,"
                 "America/Mexico_City,Bodega ejidal,Uruapan,Michoacán,30,,\n")
    response = _upload(client, "trainings", trainings)
    location = response.headers["Location"]
    assert "Inocuidad en empaque" in client.get(location).get_data(as_text=True)
    token = token_of(client, location)
    client.post(f"{location}/aplicar", data={"csrf_token": token})
    with session_scope(console_env.url) as session:
        invoice = session.execute(select(Invoice).where(Invoice.folio == "F-900021")).scalar_one()
        assert str(invoice.amount_mxn).startswith("2450")
        training = session.execute(select(Training).where(Training.code == "CAP-9001")).scalar_one()
        assert training.capacity == 30
    page = client.get(f"/capacitaciones/{training.id}").get_data(as_text=True)
    assert "Nadie inscrito todavía" in page


def test_upload_rejects_non_utf8(client_for):
    from io import BytesIO

    client = client_for("officer")
    token = token_of(client, "/importar")
    response = client.post("/importar", data={"csrf_token": token, "kind": "invoices",
                                              "file": (BytesIO("folio,ñ\n".encode("latin-1")), "x.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "UTF-8" in response.get_data(as_text=True)


def test_training_enrolment_list_and_farmer_pages(console_env, client_for):
    from bot.records.schema import Enrolment

    with session_scope(console_env.url) as session:
        enrolment = session.execute(select(Enrolment).where(Enrolment.status == "active").limit(1)).scalar_one()
        training_id, farmer = enrolment.training_id, session.get(Farmer, enrolment.farmer_id)
        name, farmer_id = farmer.name, farmer.id
    client = client_for("viewer")
    page = client.get(f"/capacitaciones/{training_id}").get_data(as_text=True)
    assert name in page and "Lista de inscritos" in page
    assert "inscrito(a)" in client.get(f"/productores/{farmer_id}").get_data(as_text=True)
    assert client.get("/productores/999999").status_code == 404
    found = client.get("/productores?q=hernandez").get_data(as_text=True)
    assert "Juan Hernández López" in found and "Rosa María" not in found


def test_dashboard_charts(client_for):
    client = client_for("viewer")
    today = datetime.now(timezone.utc).date()
    html = client.get(f"/panel?desde={today - timedelta(days=6)}&hasta={today + timedelta(days=1)}").get_data(as_text=True)
    assert html.count("<svg") == 5 and "<script" not in html
    assert "productores atendidos" in html and "Intenciones más frecuentes" in html
    assert "ask_payment_status" in html
    assert "Mensajes por día y por medio" in html
    assert "sin respuesta" in html


def test_dashboard_counts(console_env):
    from bot.console.data import dashboard

    today = datetime.now(timezone.utc).date()
    with session_scope(console_env.url) as session:
        d = dashboard(session, today - timedelta(days=60), today + timedelta(days=1), "America/Mexico_City")
    assert d.farmers_served == 4
    assert d.fallbacks == 1 and d.out_of_scope == 1
    assert dict(d.top_intents)["greet"] == 1
    assert sum(d.per_day["whatsapp"]) >= 8 and sum(d.per_day["sms"]) == 4
    assert d.human_requests == 1
