"""Derechos ARCO in the console: recording a request from a farmer's page, its due date (or "por
confirmar" while the legal deadline is not set), the list, the access file (JSON and HTML) with
everything of the farmer and nothing of another, a rectification audited with its values before
and after, an opposition that ``oppositions.excluded`` then sees, closing and refusing; a viewer
gets 403 on every ARCO page and sees no trace of them. On SQLite and PostgreSQL (console_env)."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.console.schema import ConsoleAudit
from bot.db import session_scope
from bot.messaging.schema import InboundMessage, OutboundMessage
from bot.records import oppositions
from bot.records.arco import business_days_after
from bot.records.arco_schema import ArcoRequest, ArcoStep
from bot.records.notice_schema import Notice
from bot.records.schema import Farmer, FarmerPhone, Invoice
from bot.records.vocabulary import MEDIA
from bot.timeutil import utcnow
from tests.console.conftest import ADRIANA, ROSA, login, make_app, token_of

MIGUEL = "+526671000004"  # a farmer whose record is rectified
ROSA_SAYS = "Quiero saber qué datos míos tienen, soy Rosa"
ADRIANA_SAYS = "Mensaje privado de Adriana sobre su parcela"


def farmer_of(url: str, phone: str) -> tuple[int, str]:
    with session_scope(url) as session:
        farmer = session.execute(
            select(Farmer).join(FarmerPhone).where(FarmerPhone.phone == phone).order_by(Farmer.id)
        ).scalar()
        return farmer.id, farmer.name


def record(client, farmer_id: int, right: str, identity: str = "INE vista en la oficina", **extra) -> int:
    token = token_of(client, f"/productores/{farmer_id}")
    response = client.post(
        f"/productores/{farmer_id}/arco",
        data={"csrf_token": token, "arco_right": right, "identity_check": identity, **extra},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert "/arco/" in response.headers["Location"], response.headers["Location"]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])


def steps_of(url: str, request_id: int) -> list[ArcoStep]:
    with session_scope(url) as session:
        return list(
            session.execute(
                select(ArcoStep).where(ArcoStep.request_id == request_id).order_by(ArcoStep.id)
            ).scalars()
        )


def audit_actions(url: str, farmer_id: int) -> list[str]:
    with session_scope(url) as session:
        return list(
            session.execute(
                select(ConsoleAudit.action)
                .where(ConsoleAudit.farmer_id == farmer_id)
                .order_by(ConsoleAudit.id)
            ).scalars()
        )


@pytest.fixture(scope="module")
def messages(console_env):
    """Messages of Rosa's number and of Adriana's, in and out."""
    now = utcnow()
    with session_scope(console_env.url) as session:
        for phone, text, sid in ((ROSA, ROSA_SAYS, "SMarcoRosa01"), (ADRIANA, ADRIANA_SAYS, "SMarcoAdr01")):
            session.add(
                InboundMessage(
                    message_sid=sid,
                    medium="whatsapp",
                    phone=phone,
                    from_address=f"whatsapp:{phone}",
                    to_address="whatsapp:+14155238886",
                    body=text,
                    raw_params=json.dumps({"Body": text, "From": f"whatsapp:{phone}"}),
                    status="processed",
                    received_at=now - timedelta(hours=1),
                )
            )
            if phone == ROSA:  # her check code, as she typed it: masked in her file too
                session.add(
                    InboundMessage(
                        message_sid="SMarcoRosa02",
                        medium="whatsapp",
                        phone=phone,
                        from_address=f"whatsapp:{phone}",
                        body="mi código es 8204",
                        status="processed",
                        received_at=now - timedelta(minutes=55),
                    )
                )
            session.add(
                OutboundMessage(
                    medium="whatsapp",
                    phone=phone,
                    to_address=f"whatsapp:{phone}",
                    body=f"Respuesta a: {text}",
                    status="delivered",
                    created_at=now - timedelta(minutes=50),
                )
            )


def test_viewer_gets_403_on_every_arco_page_and_sees_no_trace(console_env, client_for):
    farmer_id, _ = farmer_of(console_env.url, ROSA)
    officer = client_for("officer")
    request_id = record(officer, farmer_id, "access")
    viewer = client_for("viewer")
    for url in ("/arco", f"/arco?productor={farmer_id}", f"/arco/{request_id}"):
        assert viewer.get(url).status_code == 403, url
    for url in (f"/arco/{request_id}/acceso.json", f"/arco/{request_id}/acceso.html"):
        assert viewer.get(url).status_code == 403, url
    token = token_of(viewer, "/conversaciones")
    posts = [
        f"/productores/{farmer_id}/arco",
        f"/arco/{request_id}/cerrar",
        f"/arco/{request_id}/rectificar",
        f"/arco/{request_id}/oponer",
        f"/arco/{request_id}/bloquear",
        f"/arco/{request_id}/suprimir",
    ]
    for url in posts:
        response = viewer.post(
            url,
            data={"csrf_token": token, "arco_right": "cancellation", "identity_check": "x", "confirm": "y"},
        )
        assert response.status_code == 403, url
    farmer_page = viewer.get(f"/productores/{farmer_id}").get_data(as_text=True)
    assert "Derechos ARCO" not in farmer_page and "/arco" not in farmer_page
    officer_page = officer.get(f"/productores/{farmer_id}").get_data(as_text=True)
    assert "Registrar solicitud ARCO" in officer_page and 'href="/arco"' in officer_page
    assert len(steps_of(console_env.url, request_id)) == 1  # the viewer's posts wrote nothing


def test_record_without_legal_deadline_says_por_confirmar(console_env, client_for):
    farmer_id, name = farmer_of(console_env.url, ROSA)
    client = client_for("officer")
    request_id = record(client, farmer_id, "opposition", notes="Llamó a la oficina")
    with session_scope(console_env.url) as session:
        row = session.get(ArcoRequest, request_id)
        assert row.due_on is None and row.status == "open" and row.created_by == "officer"
        assert row.arco_right == "opposition" and row.identity_check == "INE vista en la oficina"
    page = client.get(f"/arco/{request_id}").get_data(as_text=True)
    assert "Plazo legal: por confirmar" in page and "ARCO_RESPONSE_BUSINESS_DAYS" in page
    listing = client.get("/arco").get_data(as_text=True)
    assert f"Solicitud {request_id}" in listing and name in listing and "por confirmar" in listing
    [step] = steps_of(console_env.url, request_id)
    assert step.action == "recorded" and "plazo legal por confirmar" in step.detail
    assert "arco_record" in audit_actions(console_env.url, farmer_id)


def test_record_refuses_without_identity_check_or_a_future_date(console_env, client_for):
    farmer_id, _ = farmer_of(console_env.url, ROSA)
    client = client_for("admin")
    token = token_of(client, f"/productores/{farmer_id}")
    with session_scope(console_env.url) as session:
        before = session.execute(select(ArcoRequest.id)).all()
    for data in (
        {"arco_right": "access", "identity_check": "  "},
        {
            "arco_right": "access",
            "identity_check": "INE",
            "received_on": (date.today() + timedelta(days=3)).isoformat(),
        },
        {"arco_right": "revocation", "identity_check": "INE"},
    ):
        response = client.post(f"/productores/{farmer_id}/arco", data={"csrf_token": token, **data})
        assert response.status_code == 302 and response.headers["Location"].endswith(
            f"/productores/{farmer_id}#arco"
        )
    with session_scope(console_env.url) as session:
        assert session.execute(select(ArcoRequest.id)).all() == before


def test_due_date_from_the_setting_in_business_days(console_env):
    app = make_app(console_env)
    app.config["CONSOLE_SETTINGS"] = dataclasses.replace(
        app.config["CONSOLE_SETTINGS"], arco_response_business_days=15
    )
    client = app.test_client()
    assert login(client, "officer").status_code == 302
    farmer_id, _ = farmer_of(console_env.url, ROSA)
    received = date(2026, 11, 27)  # a Friday
    request_id = record(client, farmer_id, "rectification", received_on=received.isoformat())
    with session_scope(console_env.url) as session:
        assert session.get(ArcoRequest, request_id).due_on == date(2026, 12, 18)
    assert business_days_after(received, 15) == date(2026, 12, 18)
    assert business_days_after(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Friday -> Monday
    assert "18/12/2026" in client.get(f"/arco/{request_id}").get_data(as_text=True)


def test_access_file_has_everything_of_the_farmer_and_nothing_of_another(console_env, client_for, messages):
    farmer_id, name = farmer_of(console_env.url, ROSA)
    other_id, other_name = farmer_of(console_env.url, ADRIANA)
    with session_scope(console_env.url) as session:
        folios = set(session.execute(select(Invoice.folio).where(Invoice.farmer_id == farmer_id)).scalars())
        other_folios = set(
            session.execute(select(Invoice.folio).where(Invoice.farmer_id == other_id)).scalars()
        )
    assert folios and other_folios
    with session_scope(console_env.url) as session:  # a notice told to each of them
        for who, phone, folio in ((farmer_id, ROSA, min(folios)), (other_id, ADRIANA, min(other_folios))):
            session.add(
                Notice(
                    idempotency_key=f"test:arco:{folio}",
                    kind="payment",
                    priority=1,
                    farmer_id=who,
                    phone=phone,
                    subject=folio,
                    variables="{}",
                    due_at=utcnow(),
                    status="released",
                )
            )
    client = client_for("officer")
    client.get(f"/conversaciones/{ROSA}")  # a view of her conversation, audited
    request_id = record(client, farmer_id, "access")
    response = client.get(f"/arco/{request_id}/acceso.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data(as_text=True)
    document = json.loads(raw)
    sections = {s["clave"]: s["filas"] for s in document["secciones"]}
    assert document["titular"]["nombre"] == name
    assert {i["folio"] for i in sections["invoices"]} == folios
    assert sections["deliveries"] and sections["farmer_phones"][0]["phone"] == ROSA
    assert [m["body"] for m in sections["inbound_messages"]] == [ROSA_SAYS, "mi código es ••••"]
    assert sections["inbound_messages"][0]["raw_params"]["Body"] == ROSA_SAYS
    assert sections["outbound_messages"][0]["body"] == f"Respuesta a: {ROSA_SAYS}"
    texts = [e["data"].get("text") for e in sections["tracker_events"] if e["type_name"] == "user"]
    assert "¿ya me pagaron la factura F-204518?" in texts
    assert any(r["action"] == "view_transcript" for r in sections["console_audit"])
    assert any(r["arco_right"] == "access" for r in sections["arco_requests"])
    assert [n["subject"] for n in sections["notices"]] == [min(folios)]  # hers, not Adriana's
    adriana_asked = "¿cuándo es la capacitación de calidad?"  # in her conversation with the assistant
    for foreign in (other_name, ADRIANA, ADRIANA_SAYS, adriana_asked, *other_folios):
        assert foreign not in raw, foreign
    assert "pin_hash" not in raw

    html = client.get(f"/arco/{request_id}/acceso.html")
    assert html.status_code == 200 and html.mimetype == "text/html"
    page = html.get_data(as_text=True)
    for heading in ("Facturas", "Mensajes recibidos de sus números", "Conversaciones con el asistente"):
        assert heading in page
    assert ROSA_SAYS in page and name in page and other_name not in page and ADRIANA_SAYS not in page
    actions = [s.action for s in steps_of(console_env.url, request_id)]
    assert actions == ["recorded", "access_json", "access_html"]
    assert {"arco_access_json", "arco_access_html"} <= set(audit_actions(console_env.url, farmer_id))
    shown = client.get(f"/arco/{request_id}").get_data(as_text=True)
    assert "archivo de acceso generado (JSON)" in shown


def test_rectification_is_audited_with_before_and_after(console_env, client_for):
    farmer_id, name = farmer_of(console_env.url, MIGUEL)
    client = client_for("officer")
    request_id = record(client, farmer_id, "rectification")
    with session_scope(console_env.url) as session:
        farmer = session.get(Farmer, farmer_id)
        municipality, state, organisation = farmer.municipality, farmer.state, farmer.organisation_id
        medium = farmer.preferred_medium
    new_medium = "whatsapp" if medium == "sms" else "sms"
    token = token_of(client, f"/arco/{request_id}")
    form = {
        "csrf_token": token,
        "name": "Miguel Ángel Torres Ochoa de la Cruz",
        "municipality": "Navolato",
        "state": state,
        "organisation_id": str(organisation or ""),
        "preferred_medium": new_medium,
    }
    response = client.post(f"/arco/{request_id}/rectificar", data=form)
    assert response.status_code == 302
    with session_scope(console_env.url) as session:
        farmer = session.get(Farmer, farmer_id)
        assert (farmer.name, farmer.municipality, farmer.preferred_medium) == (
            "Miguel Ángel Torres Ochoa de la Cruz",
            "Navolato",
            new_medium,
        )
    step = steps_of(console_env.url, request_id)[-1]
    assert step.action == "rectified" and step.done_by == "officer"
    assert f"Nombre: «{name}» → «Miguel Ángel Torres Ochoa de la Cruz»" in step.detail
    assert f"Municipio: «{municipality}» → «Navolato»" in step.detail
    assert f"Medio preferido: «{MEDIA[medium]}» → «{MEDIA[new_medium]}»" in step.detail
    with session_scope(console_env.url) as session:
        entry = session.execute(
            select(ConsoleAudit).where(
                ConsoleAudit.action == "arco_rectify", ConsoleAudit.farmer_id == farmer_id
            )
        ).scalar_one()
        assert "Navolato" not in entry.detail and "municipality" in entry.detail
    # the same again changes nothing and writes no step
    client.post(
        f"/arco/{request_id}/rectificar", data={**form, "csrf_token": token_of(client, f"/arco/{request_id}")}
    )
    assert len(steps_of(console_env.url, request_id)) == 2
    # an empty name is refused
    client.post(
        f"/arco/{request_id}/rectificar",
        data={**form, "name": " ", "csrf_token": token_of(client, f"/arco/{request_id}")},
    )
    with session_scope(console_env.url) as session:
        assert session.get(Farmer, farmer_id).name == "Miguel Ángel Torres Ochoa de la Cruz"
    page = client.get(f"/arco/{request_id}").get_data(as_text=True)
    assert "datos corregidos" in page and "Navolato" in page


def test_opposition_is_recorded_and_excluded_sees_it(console_env, client_for):
    farmer_id, _ = farmer_of(console_env.url, ROSA)
    with session_scope(console_env.url) as session:
        assert not oppositions.excluded(session, farmer_id, "notices")
    client = client_for("officer")
    request_id = record(client, farmer_id, "opposition")
    token = token_of(client, f"/arco/{request_id}")
    response = client.post(
        f"/arco/{request_id}/oponer", data={"csrf_token": token, "purposes": ["notices"], "phone": ""}
    )
    assert response.status_code == 302
    with session_scope(console_env.url) as session:
        assert oppositions.excluded(session, farmer_id, "notices")
        assert oppositions.excluded(session, farmer_id, "notices", phone=ROSA)
        assert not oppositions.excluded(session, farmer_id, "broadcasts")
        with pytest.raises(ValueError):
            oppositions.excluded(session, farmer_id, "surveys")
    step = steps_of(console_env.url, request_id)[-1]
    assert step.action == "opposed" and "avisos del programa" in step.detail and ROSA not in step.detail
    assert "arco_oppose" in audit_actions(console_env.url, farmer_id)
    # closing it: answered, with the time; a closed request takes no more actions
    token = token_of(client, f"/arco/{request_id}")
    client.post(
        f"/arco/{request_id}/cerrar",
        data={"csrf_token": token, "outcome": "done", "note": "Se le avisó por teléfono"},
    )
    with session_scope(console_env.url) as session:
        row = session.get(ArcoRequest, request_id)
        assert row.status == "done" and row.closed_at is not None
    client.post(f"/arco/{request_id}/oponer", data={"csrf_token": token, "purposes": ["broadcasts"]})
    with session_scope(console_env.url) as session:
        assert not oppositions.excluded(session, farmer_id, "broadcasts")
    assert [s.action for s in steps_of(console_env.url, request_id)] == ["recorded", "opposed", "closed"]


def test_a_refusal_needs_its_reason(console_env, client_for):
    farmer_id, _ = farmer_of(console_env.url, ROSA)
    client = client_for("officer")
    request_id = record(client, farmer_id, "access", identity="Llamada sin folio")
    token = token_of(client, f"/arco/{request_id}")
    client.post(f"/arco/{request_id}/cerrar", data={"csrf_token": token, "outcome": "rejected", "note": ""})
    with session_scope(console_env.url) as session:
        assert session.get(ArcoRequest, request_id).status == "open"
    client.post(
        f"/arco/{request_id}/cerrar",
        data={"csrf_token": token, "outcome": "rejected", "note": "No se pudo comprobar la identidad"},
    )
    with session_scope(console_env.url) as session:
        assert session.get(ArcoRequest, request_id).status == "rejected"
    assert client.get(f"/arco/{request_id}/acceso.json").status_code == 302  # no file for a refused one
    assert steps_of(console_env.url, request_id)[-1].action == "rejected"


def test_list_shows_pending_first(console_env, client_for):
    client = client_for("admin")
    html = client.get("/arco").get_data(as_text=True)
    with session_scope(console_env.url) as session:
        rows = session.execute(select(ArcoRequest.id, ArcoRequest.status)).all()
    pending = [i for i, s in rows if s in ("open", "blocked")]
    closed = [i for i, s in rows if s not in ("open", "blocked")]
    assert pending and closed
    positions = {i: html.index(f"Solicitud {i}<") for i, _ in rows}
    assert max(positions[i] for i in pending) < min(positions[i] for i in closed)
