"""The notices page (issue 14) and the notices in a phone's transcript, against real databases
(SQLite and PostgreSQL, console_env): notices in every state with the messages they sent, as each
role reads them; counts, Spanish labels, Twilio's errors in plain words, the status filter, pages,
whole folios hidden from viewers, 403 without the permission; in the transcript the notice marked
as the program's (never as something the farmer wrote) and the ones not sent with why."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select

from bot.console.queries.messages import last_user_messages
from bot.console.schema import ConsoleAudit, ConsoleMessage
from bot.console.vocabulary import ROLES, Role
from bot.db import engine_for, session_scope
from bot.messaging.schema import OutboundMessage
from bot.records import notices as notice_records
from bot.records.notice_schema import Notice
from bot.records.schema import FarmerPhone
from tests.console import test_browser as browser
from tests.console.conftest import (
    ADRIANA,
    FAMILY,
    ROSA,
    _action,
    _bot,
    _event_time,
    _user,
    copy_tracker,
    counting,
    login,
    make_app,
    write_events,
)

MIGUEL = "+526671000004"  # a demo farmer who never wrote
ROSA_FOLIO, ROSA_MASKED = "PP-518204", "PP-••••04"
FULL_FOLIO = re.compile(r"PP-\d{6}")
NOTICE_TEXT = "Aviso del programa: su factura F-204518 ya está pagada."
WAIT_NOTE = "Espera a las 9:00, hora del productor: no se envían avisos de noche."
WINDOW_REASON = "fuera de la ventana de 24 horas de WhatsApp: hace falta una plantilla aprobada"


@dataclass(frozen=True)
class Planned:
    phone: str
    folio: str  # the invoice it is about
    status: str
    route: str | None = None
    note: str | None = None
    sent: tuple[tuple[str, str | None], ...] = ()  # (Twilio's latest status, error code)


# Oldest first; each planned a minute after the one before.
PLANNED = (
    Planned(ROSA, "F-204518", "released", "whatsapp_text", sent=(("read", None),)),
    Planned(ADRIANA, "F-300001", "released", "whatsapp_text", sent=(("failed", "63016"),)),
    Planned(FAMILY, "F-300002", "released", "sms", sent=(("delivered", None), ("sent", None))),
    Planned(MIGUEL, "F-300003", "released", "sms", sent=(("undelivered", "12345"),)),
    Planned(ROSA, "F-204519", "skipped_opt_out", note="El número pidió BAJA."),
    Planned(
        MIGUEL, "F-300004", "skipped_no_consent", note="El número no ha aceptado el aviso de privacidad."
    ),
    Planned(ADRIANA, "F-300005", "skipped_opposed", note="El productor se opuso a recibir avisos."),
    Planned(ROSA, "F-204520", "scheduled", note=WAIT_NOTE),
)


@pytest.fixture(scope="module")
def planned(console_env) -> dict[str, int]:
    """The notices above, with the messages the released ones sent; Rosa's first one said in her
    conversation (Rasa's events: the notice's own user event, its action, the assistant's text).
    Returns each invoice folio's notice id."""
    now = datetime.now(timezone.utc)
    ids = {}
    with session_scope(console_env.url) as session:
        farmer_of = dict(session.execute(select(FarmerPhone.phone, FarmerPhone.farmer_id)).all())
        for i, plan in enumerate(PLANNED):
            created = now - timedelta(hours=20) + timedelta(minutes=i)
            notice = Notice(
                idempotency_key=f"test:{plan.folio}",
                kind="payment",
                priority=1,
                farmer_id=farmer_of[plan.phone],
                phone=plan.phone,
                subject=plan.folio,
                variables='{"folio": "%s", "status": "paid"}' % plan.folio,
                due_at=created,
                status="scheduled",
                created_at=created,
            )
            session.add(notice)
            session.flush()
            ids[plan.folio] = notice.id
            if plan.status == "released":
                sid = notice_records.mark_released(
                    session, notice, plan.route, None, now - timedelta(hours=1), None
                )
                for position, (status, code) in enumerate(plan.sent):
                    session.add(
                        OutboundMessage(
                            medium="sms" if plan.route == "sms" else "whatsapp",
                            phone=plan.phone,
                            to_address=plan.phone,
                            body=NOTICE_TEXT,
                            in_reply_to=sid,
                            reply_position=position,
                            proactive=True,
                            twilio_sid=f"SMnotice{notice.id}x{position}",
                            status=status,
                            error_code=code,
                        )
                    )
            elif plan.status == "scheduled":
                notice_records.hold_until(notice, now + timedelta(hours=8), plan.note or "")
            else:
                notice_records.mark_skipped(notice, plan.status, plan.note or "")
    rosa_sid = notice_records.message_sid_for(ids["F-204518"])
    write_events(
        console_env.tracker_url,
        {
            ROSA: [
                _user("", "notice", 1.0, _event_time(1.0), "whatsapp", rosa_sid),
                _action("action_notice", _event_time(1.0, 1)),
                _bot(NOTICE_TEXT, _event_time(1.0, 1)),
                _action("action_listen", _event_time(1.0, 2)),
            ]
        },
    )
    return ids


def _page(client, query: str = "") -> str:
    response = client.get(f"/avisos{query}")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _count(html: str, label: str) -> int:
    """A count at the top: notices in a status (a link to the filter), or their messages by delivery."""
    found = re.search(r"<strong>(\d+)</strong> (?:<a [^>]*>)?" + re.escape(label) + "(?:</a>)?</li>", html)
    assert found, label
    return int(found.group(1))


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)


def test_counts_labels_and_twilio_errors_in_plain_words(console_env, planned, client_for):
    html = _page(client_for("officer"))
    assert _count(html, "programados") == 1
    assert _count(html, "entregados a la conversación") == 4
    assert _count(html, "no enviados: el número pidió BAJA") == 1
    assert _count(html, "no enviados: sin consentimiento al aviso de privacidad") == 1
    assert _count(html, "no enviados: el productor se opuso a los avisos o a la difusión") == 1
    assert _count(html, "enviados") == 1
    assert _count(html, "entregados") == 1
    assert _count(html, "leídos") == 1
    assert _count(html, "fallidos") == 2  # failed and undelivered
    assert "<strong>8</strong> avisos." in html and len(_rows(html)) == 8
    for words in (
        "aviso de pago",
        "entregado a la conversación",
        "no enviado: el número pidió BAJA",
        "El número pidió BAJA.",
        "El productor se opuso a recibir avisos.",
        WAIT_NOTE,
        "WhatsApp, texto (dentro de las 24 horas)",
        "SMS",
        "leído",
        "entregado",
        "falló",
        "no entregado",
        f"error 63016: {WINDOW_REASON}",
        "error 12345: error de Twilio 12345",
    ):
        assert words in html, words
    # newest first: the one still waiting was planned last, Rosa's first notice first
    rows = _rows(html)
    assert "F-204520" in rows[0] and "programado" in rows[0] and "sale " in rows[0]
    assert "F-204518" in rows[-1] and "leído" in rows[-1]
    # whose it is: the farmer's page and the conversation
    assert "Rosa María Pérez Ruiz" in rows[-1] and ROSA_FOLIO in rows[-1]
    assert f'href="/conversaciones/{ROSA}"' in rows[-1] or "/conversaciones/%2B524431000001" in rows[-1]
    assert re.search(r'href="/productores/\d+"', rows[-1])


def test_a_notice_about_a_training_names_the_session_not_an_invoice(console_env, planned, client_for):
    now = datetime.now(timezone.utc)
    with session_scope(console_env.url) as session:
        farmer_id = session.execute(select(FarmerPhone.farmer_id).where(FarmerPhone.phone == ROSA)).scalar()
        reminder = Notice(
            idempotency_key="test:reminder:CAP-0042",
            kind="reminder",
            priority=2,
            farmer_id=farmer_id,
            phone=ROSA,
            subject="CAP-0042",
            variables="{}",
            due_at=now,
            status="skipped_stale",
            status_note="La inscripción se canceló antes de la hora del aviso.",
            created_at=now,
        )
        session.add(reminder)
    try:
        rows = _rows(_page(client_for("officer")))
        assert "recordatorio de capacitación" in rows[0] and "capacitación CAP-0042" in rows[0]
        assert "la inscripción o la capacitación cambió antes" in rows[0]
        assert all("factura" not in row for row in rows[:1])
    finally:
        with session_scope(console_env.url) as session:
            session.execute(delete(Notice).where(Notice.idempotency_key == "test:reminder:CAP-0042"))


def test_the_listing_is_audited(console_env, planned, client_for):
    _page(client_for("officer"), "?estado=released")
    with session_scope(console_env.url) as session:
        last = session.execute(
            select(ConsoleAudit).where(ConsoleAudit.action == "list_notices").order_by(ConsoleAudit.id.desc())
        ).scalar()
    assert last.username == "officer" and last.detail == "página 1; 4 avisos; estado released"


def test_a_viewer_reads_notices_without_whole_folios(planned, client_for):
    """As on every page: a viewer sees a farmer's folio as PP-••••04 (its last 4 digits are the
    check). The phone is shown and linked to the conversation, as in the conversation list (a
    viewer reads conversations: docs/console.md)."""
    html = _page(client_for("viewer"))
    assert ROSA_MASKED in html and not FULL_FOLIO.search(html)
    assert "Rosa María Pérez Ruiz" in html and f"error 63016: {WINDOW_REASON}" in html
    officer = _page(client_for("officer"))
    assert ROSA_FOLIO in officer and ROSA_MASKED not in officer


def test_the_status_filter(planned, client_for):
    client = client_for("viewer")
    html = _page(client, "?estado=skipped_opt_out")
    rows = _rows(html)
    assert "<strong>1</strong> aviso." in html and len(rows) == 1
    assert "F-204519" in rows[0] and "El número pidió BAJA." in rows[0]
    assert '<option value="skipped_opt_out" selected>' in html
    released = _rows(_page(client, "?estado=released"))
    assert len(released) == 4 and all("entregado a la conversación" in r for r in released)
    assert "No hay avisos en este estado." in _page(client, "?estado=skipped_no_phone")
    # the counts at the top are of every notice, whatever the filter
    assert _count(html, "entregados a la conversación") == 4
    # an unknown status is no filter
    assert len(_rows(_page(client, "?estado=nada-asi"))) == 8


def test_pages_newest_first(console_env, planned):
    client = make_app(console_env, page_size=3).test_client()
    login(client, "officer")
    first, second, third = (_page(client, f"?pagina={n}") for n in (1, 2, 3))
    assert "1–3 de 8" in first and "4–6 de 8" in second and "7–8 de 8" in third
    folios = [re.findall(r"F-\d{6}", " ".join(_rows(page))) for page in (first, second, third)]
    expected = [p.folio for p in reversed(PLANNED)]
    assert [f for page in folios for f in dict.fromkeys(page)] == expected


def test_a_role_without_the_permission_gets_403_and_no_link(planned, client_for, monkeypatch):
    """Every role reads (vocabulary.ROLES); a role without "read" is refused, and its menu has no
    link to the page."""
    officer = client_for("officer")
    assert 'href="/avisos"' in officer.get("/conversaciones").get_data(as_text=True)
    viewer = ROLES["viewer"]
    monkeypatch.setitem(ROLES, "viewer", Role(viewer.label, viewer.summary, viewer.permissions - {"read"}))
    client = client_for("viewer")
    assert client.get("/avisos").status_code == 403
    assert 'href="/avisos"' not in client.get("/conversaciones").get_data(as_text=True)


def test_the_transcript_marks_the_notice_and_says_why_others_were_not_sent(planned, client_for):
    html = client_for("officer").get(f"/conversaciones/{ROSA}").get_data(as_text=True)
    # the notice's own event is the program's, never an (empty) message of the farmer
    assert "Aviso del programa (automático)" in html
    assert html.count('class="msg user"') == 2  # Rosa's two messages, nothing else
    assert not re.search(r'<li class="msg user".*?<p class="text"></p>', html, flags=re.S)
    assert "Intención: <strong>notice</strong>" not in html
    # what went out is marked as the notice, with its status and route and its delivery
    marked = re.search(r'<li class="msg bot aviso".*?</li>', html, flags=re.S)
    assert marked, "the notice's message is not marked"
    assert ">Aviso</span>" in marked.group() and NOTICE_TEXT in marked.group()
    assert (
        "factura F-204518" in marked.group() and "WhatsApp, texto (dentro de las 24 horas)" in marked.group()
    )
    assert "leído" in marked.group()
    # the notices that did not go, each with why
    assert "Aviso no enviado" in html and "factura F-204519" in html and "El número pidió BAJA." in html
    assert "Aviso en espera" in html and WAIT_NOTE in html
    # another farmer's notices are not in her conversation
    assert "F-300001" not in html and "F-300005" not in html


def test_the_console_copies_a_notice_as_a_notice_never_as_the_farmers_message(console_env, planned):
    """Classified once, where the console copies Rasa's events: the notice's user event is of
    kind "notice", the assistant's message that said it answers the notice, and the farmer's own
    last message is still hers."""
    rosa_sid = notice_records.message_sid_for(planned["F-204518"])
    copy_tracker(console_env)
    with session_scope(console_env.url) as session:
        rows = session.execute(select(ConsoleMessage).where(ConsoleMessage.sender_id == ROSA)).scalars().all()
        notice = next(r for r in rows if r.message_id == rosa_sid)
        said = [r for r in rows if r.kind == "bot" and r.text == NOTICE_TEXT]
        farmers = last_user_messages(session, [ROSA])
    assert notice.kind == "notice" and notice.intent == "notice"
    assert [r.kind for r in rows if r.message_id and r.message_id.startswith("SM")] == ["user", "user"]
    assert [r.in_reply_to for r in said] == [rosa_sid]
    assert farmers[ROSA].message_id == "SMrosa0002"


def test_a_notice_not_said_yet_shows_its_failed_delivery(planned, client_for):
    """Adriana's notice was handed to the conversation but its message failed (63016) and Rasa's
    events for it are not there: a line with the delivery and the reason; her opposition too."""
    html = client_for("viewer").get(f"/conversaciones/{ADRIANA}").get_data(as_text=True)
    assert "factura F-300001" in html and f"Error 63016: {WINDOW_REASON}" in html
    assert "Aviso no enviado" in html and "El productor se opuso a recibir avisos." in html
    assert html.count('class="msg user"') == 1


def test_the_page_runs_the_same_statements_however_many_notices(console_env, planned, client_for):
    client = client_for("officer")
    _page(client)
    with counting(engine_for(console_env.url)) as before:
        _page(client)
    with session_scope(console_env.url) as session:
        farmer_id = session.execute(select(FarmerPhone.farmer_id).where(FarmerPhone.phone == ROSA)).scalar()
        for i in range(12):
            notice = Notice(
                idempotency_key=f"test:more:{i}",
                kind="payment",
                priority=1,
                farmer_id=farmer_id,
                phone=ROSA,
                subject=f"F-4000{i:02d}",
                variables="{}",
                due_at=datetime.now(timezone.utc) - timedelta(days=3),
                status="scheduled",
                created_at=datetime.now(timezone.utc) - timedelta(days=3),
            )
            session.add(notice)
            session.flush()
            sid = notice_records.mark_released(session, notice, "sms", None, datetime.now(timezone.utc), None)
            session.add(
                OutboundMessage(medium="sms", phone=ROSA, to_address=ROSA, in_reply_to=sid, status="sent")
            )
    try:
        with counting(engine_for(console_env.url)) as after:
            html = _page(client)
        assert "<strong>20</strong> avisos." in html
        assert len(after) == len(before), (before, after)
    finally:
        with session_scope(console_env.url) as session:
            more = select(Notice.message_sid).where(Notice.idempotency_key.like("test:more:%"))
            session.execute(
                delete(OutboundMessage)
                .where(OutboundMessage.in_reply_to.in_(more))
                .execution_options(synchronize_session=False)
            )
            session.execute(
                delete(Notice)
                .where(Notice.idempotency_key.like("test:more:%"))
                .execution_options(synchronize_session=False)
            )


# -- in headless Chromium (skipped without /usr/bin/chromium; `make test` installs it) ----------

stack = browser.stack
page = browser.page


@browser.pytestmark
def test_screenshot_of_the_notices_page(stack, page, planned):
    base = stack["url"]
    browser.sign_in(page, base, "officer")
    page.get_by_role("link", name="Avisos", exact=True).click()
    page.wait_for_url(f"{base}/avisos")
    assert "entregados a la conversación" in page.content() and WINDOW_REASON in page.content()
    browser.shot(page, "28_avisos")
    page.locator("select#estado").select_option(label="no enviado: el número pidió BAJA")
    page.get_by_role("button", name="Filtrar").click()
    page.wait_for_url("**/avisos?estado=skipped_opt_out")
    assert "F-204519" in page.content()
    page.goto(f"{base}/conversaciones/{ROSA}")
    assert "Aviso del programa (automático)" in page.content()
    browser.shot(page, "29_conversacion_con_aviso")
