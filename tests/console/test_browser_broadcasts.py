"""A broadcast end to end in headless Chromium (Debian's /usr/bin/chromium driven by Playwright):
an officer composes one for a municipality, sees the preview (how many it reaches, the exact
WhatsApp and SMS texts) and sends it for approval; an admin opens it and approves it; its notices' counts once planned. Screenshots
go to tests/artifacts/console/."""

from __future__ import annotations

from sqlalchemy import select

from bot.console.services.broadcasts import DECISIONS
from bot.db import session_scope
from bot.records.notice_schema import Broadcast
from tests.console import test_broadcasts_page as broadcasts
from tests.console import test_browser as browser
from tests.console.test_broadcasts_page import LONG, PLACE, SMS, STATE, TEXT, WHATSAPP
from tests.console.test_browser import shot

# The console's browser run: Chromium, the console served on 127.0.0.1 (SQLite databases).
pytestmark = browser.pytestmark
stack = browser.stack
page = browser.page
people = broadcasts.people  # six farmers of one municipality, three of them want news


def test_officer_composes_with_a_preview_and_an_admin_approves(stack, page, console_env, people):
    base = stack["url"]
    browser.sign_in(page, base, "officer")
    page.get_by_role("link", name="Difusión", exact=True).click()
    page.wait_for_url(f"{base}/difusion")
    page.get_by_role("link", name="Nueva difusión").click()
    page.wait_for_url(f"{base}/difusion/nueva")

    page.get_by_label("Municipio").select_option(f"{STATE}|{PLACE}")
    page.get_by_label("Mensaje", exact=True).fill(LONG)
    page.get_by_role("button", name="Ver vista previa").click()
    page.wait_for_load_state()
    assert "No se puede enviar así." in page.locator("section.preview").inner_text()
    shot(page, "30_difusion_mensaje_largo")
    page.get_by_label("Mensaje", exact=True).fill(TEXT)
    page.get_by_role("button", name="Ver vista previa").click()
    page.wait_for_load_state()
    preview = page.locator("section.preview")
    assert "lo recibirán" in preview.inner_text()
    bodies = preview.locator("p.body").all_inner_texts()
    assert bodies == [WHATSAPP, SMS]
    assert (
        page.get_by_label("Municipio").input_value() == f"{STATE}|{PLACE}"
    )  # the form keeps what was chosen
    shot(page, "31_difusion_vista_previa")

    page.get_by_role("button", name="Enviar a aprobación").click()
    page.wait_for_url("**/difusion/*")
    assert "Enviada a aprobación." in page.content()
    broadcast_id = int(page.url.rsplit("/", 1)[1])
    page.get_by_role("button", name="Salir").click()

    browser.sign_in(page, base, "admin")
    page.goto(f"{base}/difusion/{broadcast_id}")
    assert page.get_by_role("button", name="Aprobar y enviar").is_visible()
    shot(page, "32_difusion_por_aprobar")
    page.get_by_role("button", name="Aprobar y enviar").click()
    page.wait_for_load_state()
    assert DECISIONS["approved"] in page.content()
    shot(page, "33_difusion_aprobada")
    with session_scope(console_env.url) as session:
        status = session.execute(select(Broadcast.status).where(Broadcast.id == broadcast_id)).scalar()
    assert status == "approved"

    # planned by the scheduler, some read, one failed, one not sent (BAJA)
    broadcasts.deliver(console_env.url, broadcast_id, people)
    page.reload()
    assert "no enviados: el número pidió BAJA" in page.content()
    shot(page, "34_difusion_con_avisos")
    page.get_by_role("link", name="Difusión", exact=True).click()
    page.wait_for_url(f"{base}/difusion")
    shot(page, "35_difusion_lista")
