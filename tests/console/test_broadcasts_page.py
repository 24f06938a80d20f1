"""The broadcasts pages (issue 14), against real databases (SQLite and PostgreSQL, console_env):
the list, the composer with its preview (how many it reaches, the exact WhatsApp and SMS texts
and the SMS parts), sending for approval, an admin's approval or rejection of another's, and the
counts of a broadcast's real notices and of how its messages were delivered. Each role is held to
its permissions (403), a refused text or an option that is not in the lists stores nothing and
never answers 500."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from bot.console.schema import ConsoleAudit
from bot.console.services import broadcasts as service
from bot.console.services.accounts import create_account
from bot.db import session_scope
from bot.messaging import optout
from bot.messaging.formatting import shape_sms_text, sms_parts
from bot.messaging.schema import OutboundMessage
from bot.records import news
from bot.records import notices as notice_records
from bot.records.broadcasts import plan_broadcast_notices, subject_of
from bot.records.notice_schema import Broadcast, Notice
from bot.records.schema import Organisation
from bot.replies.catalog import render
from tests.console.conftest import PASSWORD, login, token_of
from tests.support.records import add_farmer

STATE, PLACE = "Michoacán", "San Isidro de Prueba"  # a municipality only this module's farmers live in
ORGANISATION = "Unión San Isidro de Prueba"
TEXT = (
    "La bodega de Uruapan recibe aguacate el sábado 12 de 7:00 a 14:00. Traiga su folio y sus cajas limpias."
)
SHORT = "Mañana no abre la bodega. Abrimos el jueves a las 7:00."
LONG = (
    "Junta de productores de aguacate: el martes 15 a las 10:00 en la casa ejidal de San Isidro. "
    "Vamos a revisar los precios de la temporada y el calendario de cortes. Traiga su credencial. "
    "Si no puede venir, mande a alguien de su familia con su folio para que firme la lista de asistencia."
)
TOO_LONG = " ".join([LONG] * 2)  # more than 3 SMS parts


def sms_of(text: str) -> str:
    """The SMS a farmer gets: the catalog's broadcast, in GSM-7 (accents á, í, ó, ú folded)."""
    return shape_sms_text(render("notice_broadcast", text=text))


WHATSAPP = render("notice_broadcast", text=TEXT)  # the heading and the way out, accents kept
SMS = sms_of(TEXT)
HIDDEN = "Espera a que la apruebe o la rechace una persona de administración que no la escribió."


@dataclass(frozen=True)
class People:
    phones: dict[str, str]  # who -> phone
    organisation_id: int


def _farmer(session, name: str, phone: str, *, crop: str = "aguacate", medium: str = "whatsapp", org=None):
    add_farmer(
        session,
        phone,
        name=name,
        state=STATE,
        municipality=PLACE,
        crop=crop,
        medium=medium,
        organisation_id=org,
    )


@pytest.fixture(scope="module")
def people(console_env) -> People:
    """Six farmers of one municipality on five phones: two share a phone; three phones said yes to
    the program's news, one of them said BAJA since; one said no, one was never asked. And a second
    admin, to approve what the first one wrote."""
    phones = {
        "ana": "+524521900001",  # WhatsApp, aguacate, the organisation, news yes; shares with her son
        "beto": "+524521900002",  # SMS, news yes
        "cruz": "+524521900003",  # news yes, then BAJA
        "dora": "+524521900004",  # news no
        "eli": "+524521900005",  # never asked
    }
    with session_scope(console_env.url) as session:
        organisation = Organisation(name=ORGANISATION, state=STATE, led_by_women=True)
        session.add(organisation)
        session.flush()
        _farmer(session, "Ana Prueba", phones["ana"], org=organisation.id)
        _farmer(session, "Hijo de Ana Prueba", phones["ana"], crop="tomate")
        _farmer(session, "Beto Prueba", phones["beto"], medium="sms")
        _farmer(session, "Cruz Prueba", phones["cruz"])
        _farmer(session, "Dora Prueba", phones["dora"])
        _farmer(session, "Eli Prueba", phones["eli"])
        for who in ("ana", "beto", "cruz"):
            news.record_choice(session, phones[who], True)
        news.record_choice(session, phones["dora"], False)
        optout.record_opt(session, phones["cruz"], "opt_out", "BAJA", "sms")
        create_account(session, "admin2", "admin", PASSWORD)
        return People(phones, organisation.id)


@pytest.fixture
def admin2(app):
    client = app.test_client()
    assert login(client, "admin2").status_code == 302
    return client


def _form(client, text: str, button: str = "preview", **audience) -> dict[str, str]:
    data = {
        "state": "",
        "municipality": f"{STATE}|{PLACE}",
        "product": "",
        "organisation_id": "",
        "medium": "",
    }
    data.update(audience)
    return {**data, "text": text, button: "1", "csrf_token": token_of(client, "/difusion/nueva")}


def _broadcasts(url: str) -> int:
    with session_scope(url) as session:
        return session.execute(select(func.count(Broadcast.id))).scalar()


def _compose(client, text: str = TEXT, **audience) -> int:
    response = client.post("/difusion/nueva", data=_form(client, text, "send", **audience))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    found = re.fullmatch(r"/difusion/(\d+)", response.headers["Location"])
    assert found, response.headers["Location"]
    return int(found.group(1))


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def _count(html: str, label: str) -> int:
    found = re.search(r"<strong>(\d+)</strong> " + re.escape(label) + "</li>", html)
    assert found, label
    return int(found.group(1))


def _status(url: str, broadcast_id: int) -> Broadcast:
    with session_scope(url) as session:
        broadcast = session.get(Broadcast, broadcast_id)
        session.expunge(broadcast)
        return broadcast


def _audits(url: str, action: str) -> list[tuple[str, str]]:
    with session_scope(url) as session:
        rows = session.execute(
            select(ConsoleAudit.username, ConsoleAudit.detail)
            .where(ConsoleAudit.action == action)
            .order_by(ConsoleAudit.id)
        )
        return [(username, detail) for username, detail in rows]


def test_the_texts_take_the_sms_parts_the_tests_expect():
    """The catalog's heading and footer are edited elsewhere: the texts must still take the parts
    the tests below expect."""
    assert [sms_parts(sms_of(t)).parts for t in (SHORT, TEXT, LONG)] == [1, 2, 3]
    assert sms_parts(sms_of(TOO_LONG)).parts > 3


# -- who may do what -----------------------------------------------------------------------------


def test_a_viewer_reads_the_broadcasts_but_composes_and_decides_nothing(console_env, people, client_for):
    broadcast_id = _compose(client_for("officer"))
    viewer = client_for("viewer")
    listing = _page(viewer, "/difusion")
    assert "Nueva difusión" not in listing and f'href="/difusion/{broadcast_id}"' in listing
    assert viewer.get("/difusion/nueva").status_code == 403
    token = token_of(viewer, "/conversaciones")
    assert viewer.post("/difusion/nueva", data={"csrf_token": token, "text": TEXT}).status_code == 403
    for action in ("aprobar", "rechazar"):
        assert (
            viewer.post(f"/difusion/{broadcast_id}/{action}", data={"csrf_token": token}).status_code == 403
        )
    html = _page(viewer, f"/difusion/{broadcast_id}")
    assert "Aprobar y enviar" not in html and HIDDEN in html
    assert _status(console_env.url, broadcast_id).status == "pending"
    assert 'href="/difusion"' in _page(viewer, "/conversaciones")  # in the navigation


def test_an_officer_previews_the_count_and_the_exact_text_of_each_medium(console_env, people, client_for):
    officer = client_for("officer")
    assert 'href="/difusion/nueva"' in _page(officer, "/difusion")
    before = _broadcasts(console_env.url)
    response = officer.post("/difusion/nueva", data=_form(officer, TEXT))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _count(html, "productores del grupo elegido") == 6
    assert _count(html, "teléfonos distintos") == 5  # Ana and her son share one
    assert _count(html, "aceptaron noticias del programa") == 3
    assert _count(html, "pidieron BAJA después") == 1
    assert _count(html, "lo recibirán") == 2
    assert f'<p class="body">{WHATSAPP}</p>' in html and f'<p class="body">{SMS}</p>' in html
    assert "sábado" in WHATSAPP and "sabado" in SMS and SMS.startswith("Mensaje del programa: ")
    assert f"{sms_parts(SMS).parts} partes de SMS" in html and "Sin acentos en á, í, ó, ú" in html
    assert "Dentro de las 24 horas: este texto." in html
    assert "No se puede enviar así." not in html
    # the form keeps what was written and chosen
    assert f"{TEXT}</textarea>" in html and f'<option value="{STATE}|{PLACE}" selected>' in html
    short = officer.post("/difusion/nueva", data=_form(officer, SHORT, medium="sms")).get_data(as_text=True)
    assert f'<p class="body">{sms_of(SHORT)}</p>' in short and "1 parte de SMS" in short
    assert _count(short, "productor del grupo elegido") == 1  # Beto, by SMS
    assert _broadcasts(console_env.url) == before  # a preview stores nothing


def test_an_officer_sends_for_approval_and_cannot_approve(console_env, people, client_for):
    officer = client_for("officer")
    broadcast_id = _compose(officer, TEXT, product="aguacate", organisation_id=str(people.organisation_id))
    stored = _status(console_env.url, broadcast_id)
    assert (stored.status, stored.composed_by, stored.text) == ("pending", "officer", TEXT)
    assert (stored.municipality, stored.product, stored.organisation_id) == (
        PLACE,
        "aguacate",
        people.organisation_id,
    )
    html = _page(officer, f"/difusion/{broadcast_id}")
    assert "Enviada a aprobación." in html and "espera aprobación" in html
    assert f"{PLACE} · aguacate · {ORGANISATION}" in html
    assert "Aprobar y enviar" not in html and HIDDEN in html
    token = token_of(officer, f"/difusion/{broadcast_id}")
    assert officer.post(f"/difusion/{broadcast_id}/aprobar", data={"csrf_token": token}).status_code == 403
    assert _status(console_env.url, broadcast_id).status == "pending"
    assert ("officer", f"difusión {broadcast_id}; 1 teléfono") in _audits(
        console_env.url, "compose_broadcast"
    )


def test_an_admin_cannot_approve_their_own_another_admin_approves(console_env, people, client_for, admin2):
    admin = client_for("admin")
    broadcast_id = _compose(admin)
    html = _page(admin, f"/difusion/{broadcast_id}")
    assert "Aprobar y enviar" not in html and HIDDEN in html
    token = token_of(admin, f"/difusion/{broadcast_id}")
    refused = admin.post(
        f"/difusion/{broadcast_id}/aprobar", data={"csrf_token": token}, follow_redirects=True
    )
    assert refused.status_code == 200
    assert f'<p class="flash warning" role="alert">{service.DECISIONS["own"]}</p>' in refused.get_data(
        as_text=True
    )
    assert _status(console_env.url, broadcast_id).status == "pending"

    html = _page(admin2, f"/difusion/{broadcast_id}")
    assert "Aprobar y enviar" in html and "Rechazar" in html
    token = token_of(admin2, f"/difusion/{broadcast_id}")
    response = admin2.post(f"/difusion/{broadcast_id}/aprobar", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == f"/difusion/{broadcast_id}"
    html = _page(admin2, f"/difusion/{broadcast_id}")
    assert service.DECISIONS["approved"] in html and "Aprobar y enviar" not in html
    stored = _status(console_env.url, broadcast_id)
    assert (stored.status, stored.decided_by, stored.decision_note) == ("approved", "admin2", None)
    assert ("admin2", f"difusión {broadcast_id}") in _audits(console_env.url, "approve_broadcast")
    assert ("admin2", f"difusión {broadcast_id}") in _audits(console_env.url, "view_broadcast")
    # a second decision is refused, and says so
    again = admin2.post(
        f"/difusion/{broadcast_id}/rechazar", data={"csrf_token": token}, follow_redirects=True
    )
    assert service.DECISIONS["decided"] in again.get_data(as_text=True)
    assert _status(console_env.url, broadcast_id).status == "approved"
    # the list says who wrote it and who decided
    row = next(r for r in _rows(_page(admin, "/difusion")) if f'href="/difusion/{broadcast_id}"' in r)
    assert "aprobada" in row and "<td>admin</td>" in row and "admin2" in row


def test_a_rejection_keeps_its_note(console_env, people, client_for, admin2):
    broadcast_id = _compose(client_for("officer"))
    token = token_of(admin2, f"/difusion/{broadcast_id}")
    note = "La fecha de la bodega cambió: escríbala con la nueva."
    response = admin2.post(f"/difusion/{broadcast_id}/rechazar", data={"csrf_token": token, "note": note})
    assert response.status_code == 302
    html = _page(client_for("officer"), f"/difusion/{broadcast_id}")
    assert "rechazada" in html and note in html and "Nota de quien la rechazó" in html
    assert _status(console_env.url, broadcast_id).decision_note == note
    assert ("admin2", f"difusión {broadcast_id}") in _audits(console_env.url, "reject_broadcast")
    long_note = admin2.post(
        f"/difusion/{broadcast_id}/rechazar",
        data={"csrf_token": token, "note": "x" * 1001},
        follow_redirects=True,
    )
    assert "La nota es muy larga" in long_note.get_data(as_text=True)


def test_a_decision_without_a_token_or_on_no_broadcast(console_env, people, client_for, admin2):
    broadcast_id = _compose(client_for("officer"))
    assert admin2.post(f"/difusion/{broadcast_id}/aprobar", data={}).status_code == 400
    assert admin2.post(f"/difusion/{broadcast_id}/rechazar", data={"note": "no"}).status_code == 400
    assert _status(console_env.url, broadcast_id).status == "pending"
    token = token_of(admin2, "/difusion")
    assert admin2.post("/difusion/999999/aprobar", data={"csrf_token": token}).status_code == 404
    assert admin2.get("/difusion/999999").status_code == 404


# -- what stops a broadcast ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "audience", "problem"),
    [
        (LONG, {}, service.PROBLEMS["too_long"].format(parts=3)),
        ("   ", {}, service.PROBLEMS["empty"]),
        (TEXT, {"medium": "sms", "product": "tomate"}, service.PROBLEMS["no_one"]),
    ],
    ids=["three SMS parts", "empty", "no one who wants news"],
)
def test_a_problem_is_a_warning_and_stores_nothing(console_env, people, client_for, text, audience, problem):
    officer = client_for("officer")
    before = _broadcasts(console_env.url)
    for button in ("preview", "send"):
        response = officer.post("/difusion/nueva", data=_form(officer, text, button, **audience))
        html = response.get_data(as_text=True)
        assert response.status_code == (200 if button == "preview" else 422)
        assert "No se puede enviar así." in html and problem in html
    if text == LONG:
        assert "3 partes de SMS" in html
    assert _broadcasts(console_env.url) == before


def test_a_text_of_more_than_three_sms_parts_is_refused_too(console_env, people, client_for):
    officer = client_for("officer")
    before = _broadcasts(console_env.url)
    response = officer.post("/difusion/nueva", data=_form(officer, TOO_LONG, "send"))
    assert response.status_code == 422 and "no cabe en 2 SMS" in response.get_data(as_text=True)
    assert _broadcasts(console_env.url) == before


@pytest.mark.parametrize(
    "field",
    [
        {"organisation_id": "999999"},
        {"organisation_id": "abc"},
        {"medium": "fax"},
        {"state": "Narnia"},
        {"municipality": "Ninguno"},
        {"product": "uranio"},
    ],
    ids=lambda f: "=".join(*f.items()),
)
def test_an_option_not_in_the_lists_is_a_polite_warning(console_env, people, client_for, field):
    officer = client_for("officer")
    before = _broadcasts(console_env.url)
    response = officer.post("/difusion/nueva", data=_form(officer, TEXT, "send", **field))
    assert response.status_code == 422
    assert "Una opción del público ya no está en la lista." in response.get_data(as_text=True)
    assert _broadcasts(console_env.url) == before


def test_the_composer_without_a_token_or_with_too_long_a_text(console_env, people, client_for):
    officer = client_for("officer")
    assert (
        officer.post("/difusion/nueva", data={"text": TEXT, "municipality": f"{STATE}|{PLACE}"}).status_code
        == 400
    )
    response = officer.post("/difusion/nueva", data=_form(officer, "a" * 1601))
    assert response.status_code == 422 and "El mensaje es demasiado largo" in response.get_data(as_text=True)


# -- counts of a broadcast's notices ---------------------------------------------------------------


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)


def deliver(url: str, broadcast_id: int, people: People) -> None:
    """The scheduler plans the approved broadcast (one notice per phone that wants news: Ana's
    shared phone once, Beto, Cruz); then Ana's is read on WhatsApp, Beto's SMS went in two
    messages (one delivered, one failed) and Cruz's was not sent (BAJA)."""
    now = datetime.now(timezone.utc)
    with session_scope(url) as session:
        plan_broadcast_notices(session, now)
        planned = {
            n.phone: n
            for n in session.execute(
                select(Notice).where(Notice.kind == "broadcast", Notice.subject == subject_of(broadcast_id))
            ).scalars()
        }
        assert set(planned) == {people.phones[w] for w in ("ana", "beto", "cruz")}
        sent = {"ana": ("whatsapp_text", ("read",)), "beto": ("sms", ("delivered", "failed"))}
        for who, (route, statuses) in sent.items():
            notice = planned[people.phones[who]]
            sid = notice_records.mark_released(session, notice, route, None, now, None)
            for position, status in enumerate(statuses):
                session.add(
                    OutboundMessage(
                        medium="sms" if route == "sms" else "whatsapp",
                        phone=notice.phone,
                        to_address=notice.phone,
                        body=WHATSAPP,
                        in_reply_to=sid,
                        reply_position=position,
                        proactive=True,
                        twilio_sid=f"SMbroadcast{notice.id}x{position}",
                        status=status,
                        error_code="30003" if status == "failed" else None,
                    )
                )
        notice_records.mark_skipped(
            planned[people.phones["cruz"]], "skipped_opt_out", "El número pidió BAJA."
        )


def test_counts_come_from_the_broadcasts_notices_and_their_messages(console_env, people, client_for, admin2):
    """Approved, then planned and delivered as deliver() says."""
    broadcast_id = _compose(client_for("officer"))
    approve_page = f"/difusion/{broadcast_id}"
    token = token_of(admin2, approve_page)
    assert admin2.post(f"{approve_page}/aprobar", data={"csrf_token": token}).status_code == 302
    html = _page(client_for("viewer"), approve_page)
    assert "Sus avisos todavía no se planean" in html
    deliver(console_env.url, broadcast_id, people)
    html = _page(client_for("viewer"), approve_page)
    assert "3 teléfonos" in html  # planned
    assert _count(html, "entregados a la conversación") == 2
    assert _count(html, "no enviados: el número pidió BAJA") == 1
    assert _count(html, "enviados") == 0
    assert _count(html, "entregados") == 1
    assert _count(html, "leídos") == 1
    assert _count(html, "fallidos") == 1
    row = next(r for r in _rows(_page(client_for("viewer"), "/difusion")) if f'href="{approve_page}"' in r)
    assert "<strong>2</strong> entregados a la conversación" in row
    assert "<strong>1</strong> no enviados: el número pidió BAJA" in row
    assert "leídos: <strong>1</strong>" in row and "fallidos: <strong>1</strong>" in row
    assert "entregados: <strong>1</strong>" in row and "enviados: <strong>0</strong>" in row
