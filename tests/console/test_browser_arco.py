"""An ARCO access request end to end in headless Chromium (Debian's /usr/bin/chromium driven by
Playwright): an officer signs in, finds the farmer, records the request from the farmer's page,
opens it, downloads the JSON file and the readable page, and the files hold the farmer's records
and messages and nothing of another farmer. Screenshots go to tests/artifacts/console/."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.db import session_scope
from bot.records.arco_schema import ArcoRequest, ArcoStep
from bot.records.schema import Farmer, FarmerPhone, Invoice
from tests.console import test_browser as browser
from tests.console.conftest import ADRIANA, ROSA
from tests.console.test_browser import ARTIFACTS, shot

# The console's browser run: Chromium, the console served on 127.0.0.1 (SQLite databases).
pytestmark = browser.pytestmark
stack = browser.stack
page = browser.page

ROSA_ASKED = "¿ya me pagaron la factura F-204518?"  # in her conversation with the assistant
ADRIANA_ASKED = "¿cuándo es la capacitación de calidad?"


def test_officer_answers_an_access_request_with_the_downloaded_file(stack, page, console_env, tmp_path):
    with session_scope(console_env.url) as session:
        rosa = session.execute(select(Farmer).join(FarmerPhone).where(FarmerPhone.phone == ROSA)).scalar_one()
        adriana = session.execute(
            select(Farmer).join(FarmerPhone).where(FarmerPhone.phone == ADRIANA)
        ).scalar_one()
        rosa_folios = set(
            session.execute(select(Invoice.folio).where(Invoice.farmer_id == rosa.id)).scalars()
        )
        adriana_folios = set(
            session.execute(select(Invoice.folio).where(Invoice.farmer_id == adriana.id)).scalars()
        )
    base = stack["url"]
    browser.sign_in(page, base, "officer")

    # the farmer's page: find her, then the ARCO form at its end
    page.get_by_role("link", name="Productores", exact=True).click()
    page.get_by_label("Buscar por nombre, folio o teléfono").fill("Rosa María")
    page.get_by_role("button", name="Buscar").click()
    page.get_by_role("link", name=rosa.name).click()
    page.wait_for_url(f"**/productores/{rosa.id}")
    page.get_by_label("Derecho que pide").select_option(label="acceso")
    page.get_by_label("Cómo se comprobó la identidad de quien pide").fill(
        "Credencial del INE vista en la oficina de Uruapan; coincide con el registro."
    )
    page.locator("#arco").scroll_into_view_if_needed()
    shot(page, "20_arco_formulario_productor")
    page.get_by_role("button", name="Registrar solicitud ARCO").click()
    page.wait_for_url("**/arco/*")
    content = page.content()
    assert "Solicitud de acceso registrada." in content and "Plazo legal: por confirmar" in content
    assert "ARCO_RESPONSE_BUSINESS_DAYS" in content
    shot(page, "21_arco_solicitud_acceso")

    # the list: the new request, still open
    page.get_by_role("link", name="Derechos ARCO", exact=True).click()
    page.wait_for_url(f"{base}/arco")
    assert rosa.name in page.content() and "abierta" in page.content()
    shot(page, "22_arco_lista")
    page.locator("table.list a", has_text="Solicitud").first.click()
    page.wait_for_url("**/arco/*")

    # the file, as the farmer will get it
    with page.expect_download() as info:
        page.get_by_role("link", name="Descargar archivo de datos (JSON)").click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(str(target))
    assert target.name.startswith("acceso-arco-") and target.suffix == ".json"
    raw = target.read_text(encoding="utf-8")
    document = json.loads(raw)
    sections = {s["clave"]: s["filas"] for s in document["secciones"]}
    assert document["titular"]["nombre"] == rosa.name
    assert {i["folio"] for i in sections["invoices"]} == rosa_folios
    assert ROSA_ASKED in [e["data"].get("text") for e in sections["tracker_events"]]
    for foreign in (adriana.name, ADRIANA, ADRIANA_ASKED, *adriana_folios):
        assert foreign not in raw, foreign

    with page.expect_download() as info:
        page.get_by_role("link", name="Descargar página para leer (HTML)").click()
    readable = tmp_path / info.value.suggested_filename
    info.value.save_as(str(readable))
    html = readable.read_text(encoding="utf-8")
    assert "Facturas" in html and ROSA_ASKED in html and adriana.name not in html

    page.reload()
    assert "archivo de acceso generado (JSON)" in page.content()
    shot(page, "23_arco_pasos_tras_descargas")
    page.goto(readable.as_uri())
    shot(page, "24_arco_archivo_para_leer")

    with session_scope(console_env.url) as session:
        request = session.execute(select(ArcoRequest).where(ArcoRequest.farmer_id == rosa.id)).scalar_one()
        actions = session.execute(
            select(ArcoStep.action).where(ArcoStep.request_id == request.id).order_by(ArcoStep.id)
        ).scalars()
        assert list(actions) == ["recorded", "access_json", "access_html"]
    assert (ARTIFACTS / "24_arco_archivo_para_leer.png").exists()


def test_the_pages_of_the_other_rights(stack, page, console_env):
    """Rectification, opposition and cancellation, as staff see them (screenshots): a correction
    saved with its values before and after, an opposition recorded, a cancellation before its
    bloqueo."""
    miguel = "+526671000004"
    with session_scope(console_env.url) as session:
        farmer = session.execute(
            select(Farmer).join(FarmerPhone).where(FarmerPhone.phone == miguel)
        ).scalar_one()
    base = stack["url"]
    browser.sign_in(page, base, "admin")

    def new_request(right: str) -> None:
        page.goto(f"{base}/productores/{farmer.id}")
        page.get_by_label("Derecho que pide").select_option(label=right)
        page.get_by_label("Cómo se comprobó la identidad de quien pide").fill(
            "Llamada al número registrado; dio su folio."
        )
        page.get_by_role("button", name="Registrar solicitud ARCO").click()
        page.wait_for_url("**/arco/*")

    new_request("rectificación")
    page.get_by_label("Municipio").fill("Navolato")
    page.get_by_role("button", name="Guardar corrección").click()
    page.wait_for_load_state()
    assert "Datos corregidos: Municipio." in page.content() and "→ «Navolato»" in page.content()
    shot(page, "25_arco_rectificacion")

    new_request("oposición")
    page.get_by_label("mensajes de difusión a muchos productores").check()
    page.get_by_role("button", name="Registrar oposición").click()
    page.wait_for_load_state()
    assert "Oposición registrada: mensajes de difusión a muchos productores." in page.content()
    shot(page, "26_arco_oposicion")

    new_request("cancelación")
    assert page.get_by_role("button", name="Bloquear (paso 1)").count() == 1
    shot(page, "27_arco_cancelacion_antes_del_bloqueo")
