"""End to end in headless Chromium (Debian's /usr/bin/chromium driven by Playwright): log in,
find a conversation, correct an intent, export the corrections, reply to a farmer through the
local Twilio stand-in. Screenshots go to tests/artifacts/console/ for a reviewer."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.console.schema import ConsoleCorrection, ConsoleReply
from bot.db import session_scope
from tests.console.conftest import FAMILY, PASSWORD, make_app

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "console"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)",
)


@pytest.fixture
def stack(console_env, monkeypatch):
    if console_env.kind != "sqlite":
        pytest.skip("the browser run uses the SQLite databases (the pages are the same)")
    from werkzeug.serving import make_server

    from tests.support.standin import start_standin

    standin = start_standin(port=0, account_sid="ACtest", auth_token="test-token")
    for key, value in {
        "TWILIO_ACCOUNT_SID": "ACtest",
        "TWILIO_AUTH_TOKEN": "test-token",
        "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
        "TWILIO_SMS_FROM": "+15005550006",
        "TWILIO_API_BASE": standin.url,
        "TWILIO_STATUS_CALLBACKS": "false",
    }.items():
        monkeypatch.setenv(key, value)
    import logging

    monkeypatch.setattr(logging.getLogger("werkzeug"), "level", logging.WARNING)
    app = make_app(console_env, TESTING=False)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="console-e2e", daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}", "standin": standin}
    server.shutdown()
    thread.join(10)
    standin.stop()


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="es-MX", accept_downloads=True
        )
        yield context.new_page()
        context.close()
        browser.close()


def sign_in(page, base: str, user: str) -> None:
    page.goto(f"{base}/entrar")
    page.get_by_label("Usuario").fill(user)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_url(f"{base}/conversaciones")


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_officer_reviews_corrects_exports_and_replies(stack, page, console_env, tmp_path):
    base, standin = stack["url"], stack["standin"]
    page.goto(f"{base}/conversaciones")
    assert page.url.startswith(f"{base}/entrar")
    page.get_by_label("Usuario").fill("officer")
    page.get_by_label("Contraseña").fill(PASSWORD)
    shot(page, "01_entrar")
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_url(f"{base}/conversaciones")
    shot(page, "02_conversaciones")

    # find the conversation by what the farmer wrote, among those the assistant did not understand
    page.get_by_label("Buscar por teléfono, nombre, folio o texto").fill("kalibre")
    page.get_by_label("el asistente no entendió o quedaron fuera de tema").check()
    page.get_by_role("button", name="Buscar").click()
    assert "1</strong> conversación encontrada" in page.content()
    shot(page, "03_busqueda")
    page.get_by_role("link", name=FAMILY).click()
    page.wait_for_url("**/conversaciones/**")
    assert "ask_avocado_size" in page.content()
    shot(page, "04_conversacion")

    # correct the intent and the entities of the first farmer message
    message = page.locator("li.msg.user").first
    message.locator("summary").click()
    message.get_by_label("Intención correcta").select_option("ask_avocado_size")
    message.get_by_label("Entidades").fill("calibre: 32\nproduct: aguacate")
    message.get_by_role("button", name="Guardar corrección").click()
    page.wait_for_load_state()
    assert "Corrección guardada" in page.content()
    assert "corregida a ask_avocado_size" in page.content()
    shot(page, "05_correccion")

    # export the corrections for the next training
    page.get_by_role("link", name="Correcciones", exact=True).click()
    shot(page, "06_correcciones")
    with page.expect_download() as info:
        page.get_by_role("link", name="Descargar correcciones (YAML)").click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(str(target))
    exported = target.read_text(encoding="utf-8")
    assert exported.startswith('version: "3.1"\nnlu:\n')
    assert "- kiero saber del kalibre [32](calibre) de [aguacate](product)" in exported

    # reply to the farmer by SMS through the Twilio stand-in
    page.goto(f"{base}/conversaciones/{FAMILY}")
    page.get_by_label("Mensaje para el productor").fill(
        "Buen día, soy del programa. El calibre 32 sí se compra; le llamo mañana."
    )
    page.get_by_label("Enviar por").select_option("sms")
    page.get_by_role("button", name="Enviar respuesta").click()
    page.wait_for_load_state()
    assert "Respuesta enviada." in page.content()
    sent = standin.wait_for(1, to=FAMILY)
    assert len(sent) == 1 and sent[0]["body"].startswith("Buen dia, soy del programa.")
    page.locator("#responder").scroll_into_view_if_needed()
    shot(page, "07_respuesta_enviada")

    page.get_by_role("link", name="Atención", exact=True).click()
    shot(page, "08_atencion")
    page.get_by_role("link", name="Panel", exact=True).click()
    assert page.locator("svg.chart").count() == 5
    shot(page, "09_panel")

    with session_scope(console_env.url) as session:
        assert session.execute(select(ConsoleCorrection).where(ConsoleCorrection.sender_id == FAMILY)).first()
        reply = (
            session.execute(
                select(ConsoleReply).where(ConsoleReply.phone == FAMILY).order_by(ConsoleReply.id.desc())
            )
            .scalars()
            .first()
        )
        assert reply.status == "sent" and reply.username == "officer"


def test_viewer_sees_no_amounts_and_no_reply_form(stack, page):
    base = stack["url"]
    sign_in(page, base, "viewer")
    page.goto(f"{base}/conversaciones/%2B524431000001")
    content = page.content()
    assert "37,765.00" not in content and "$ •••••" in content
    assert page.get_by_role("button", name="Enviar respuesta").count() == 0
    shot(page, "10_consulta_sin_montos")


def test_officer_lifts_a_lock_and_resets_a_pin(stack, page, console_env):
    """Bloqueos: one phone held for staff, one locked for a while, a number held back by the rate
    limit; the officer lifts the first lock, then resets a farmer's PIN from their page. A viewer
    sees the same list with folios masked and no buttons."""
    from datetime import timedelta

    from bot.messaging.schema import InboundMessage
    from bot.records.schema import Farmer, FarmerPhone, PhoneVerification
    from bot.timeutil import utcnow

    now = utcnow()
    with session_scope(console_env.url) as session:
        family = (
            session.execute(
                select(FarmerPhone.farmer_id)
                .where(FarmerPhone.phone == FAMILY)
                .order_by(FarmerPhone.farmer_id)
            )
            .scalars()
            .all()
        )
        session.add_all(
            [
                PhoneVerification(
                    phone=FAMILY,
                    farmer_id=family[0],
                    lockouts=3,
                    held_for_staff=True,
                    last_attempt_at=now - timedelta(minutes=12),
                ),
                PhoneVerification(
                    phone=FAMILY,
                    farmer_id=family[1],
                    lockouts=1,
                    locked_until=now + timedelta(minutes=25),
                    last_attempt_at=now - timedelta(minutes=5),
                ),
                *[
                    InboundMessage(
                        message_sid=f"SMbrowserflood{i}",
                        medium="sms",
                        phone="+525512345678",
                        from_address="+525512345678",
                        body="hola",
                        status="processed",
                        error="rate_limited",
                        received_at=now - timedelta(minutes=40 - i),
                    )
                    for i in range(12)
                ],
            ]
        )
        farmer = session.get(Farmer, family[0])
        farmer.pin_hash, farmer.pin_set_at = "scrypt:not-a-real-hash", now - timedelta(days=2)
        name = farmer.name

    base = stack["url"]
    sign_in(page, base, "officer")
    page.get_by_role("link", name="Bloqueos", exact=True).click()
    assert "hasta que el personal lo desbloquee" in page.content()
    shot(page, "11_bloqueos")
    page.get_by_role("button", name=f"Desbloquear {FAMILY} para {name}").click()
    page.wait_for_load_state()
    assert "desbloqueado" in page.content()

    page.goto(f"{base}/productores/{family[0]}")
    assert page.get_by_role("button", name="Restablecer NIP").count() == 1
    shot(page, "12_ficha_restablecer_nip")
    page.get_by_role("button", name="Restablecer NIP").click()
    page.wait_for_load_state()
    assert "NIP restablecido" in page.content()

    page.get_by_role("button", name="Salir").click()
    page.get_by_label("Usuario").fill("viewer")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_url(f"{base}/conversaciones")
    page.goto(f"{base}/bloqueos")
    assert "PP-••••" in page.content() and page.get_by_role("button", name="Desbloquear").count() == 0
    shot(page, "13_consulta_bloqueos")


def test_officer_fills_a_faq_placeholder(stack, page, console_env):
    """Preguntas frecuentes: the answers with "[POR LLENAR: …]" listed at the top and marked in
    the list; the officer fills the program's hours and the count goes down. Explicaciones: the
    explanations by kind, one with its edit form open."""
    from sqlalchemy import delete

    from bot.records.demo_data import SEED_DIR
    from bot.records.knowledge import faq_by_code, load_knowledge
    from bot.records.schema import FaqEntry

    base = stack["url"]
    sign_in(page, base, "officer")
    page.get_by_role("link", name="Preguntas frecuentes", exact=True).click()
    assert "Faltan datos: 6 respuestas tienen [POR LLENAR]" in page.content()
    assert page.locator("tbody.missing mark.missing").count() == 7
    shot(page, "14_preguntas_faltan_datos")

    entry = page.locator("#p-hours")
    entry.locator("summary").click()
    entry.get_by_label("Respuesta").fill(
        "El programa atiende de lunes a viernes, de 9 a 17 h. Este asistente contesta a cualquier hora."
    )
    entry.get_by_role("button", name="Guardar respuesta").click()
    page.wait_for_load_state()
    assert "El asistente ya contesta con ella." in page.content()
    assert "Faltan datos: 5 respuestas tienen [POR LLENAR]" in page.content()
    shot(page, "15_pregunta_llenada")

    page.get_by_role("link", name="Explicaciones", exact=True).click()
    explanation = page.locator("#x-missing_cfdi_xml")
    explanation.locator("summary").click()
    explanation.scroll_into_view_if_needed()
    shot(page, "16_explicaciones")

    with session_scope(console_env.url) as session:
        assert faq_by_code(session, "hours").updated_by == "officer"
        session.execute(delete(FaqEntry))
        session.flush()
        load_knowledge(session, SEED_DIR)
