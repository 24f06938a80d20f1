"""The full privacy notice at /aviso-de-privacidad: served without signing in, with the retention
periods the purge applies, a visible "[POR LLENAR: …]" for each fact the deployment has not set
(and the value once it is set), and at the path the assistant's short notice points to. One run
in headless Chromium leaves a screenshot in tests/artifacts/console/ for a reviewer."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.config import settings
from bot.console.views.privacy_notice import PATH
from bot.records.retention import PERIOD_SETTINGS, periods
from tests.console.conftest import make_app

PLACEHOLDERS = (
    "[POR LLENAR: nombre legal del responsable]",
    "[POR LLENAR: domicilio del responsable]",
    "[POR LLENAR: correo para solicitudes de derechos ARCO]",
    "[POR LLENAR: teléfono para solicitudes de derechos ARCO]",
    "[POR CONFIRMAR: plazo de respuesta que fija la ley de 2025]",
)
FILLED = {
    "PRIVACY_CONTROLLER_NAME": "Fundación Ejemplo, A.C.",
    "PRIVACY_CONTROLLER_ADDRESS": "Calle Uno 10, Uruapan, Michoacán",
    "PRIVACY_ARCO_EMAIL": "datos@ejemplo.mx",
    "PRIVACY_ARCO_PHONE": "800 123 4567",
}
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "console"


@pytest.fixture
def unset(monkeypatch):
    for name in (*FILLED, *PERIOD_SETTINGS.values()):
        monkeypatch.delenv(name, raising=False)


def test_the_notice_answers_without_login_with_placeholders_and_periods(app, unset):
    response = app.test_client().get(PATH)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Aviso de privacidad integral" in html and "Salir</button>" not in html  # nobody signed in
    for placeholder in PLACEHOLDERS:
        assert placeholder in html
    for words in ("365 días (un año)", "30 días", "90 días (unos 3 meses)", "1827 días (unos 5 años)"):
        assert f"<td>{words}</td>" in html
    assert "parámetros de Twilio, nombre de perfil de WhatsApp" in html
    assert "Finalidades necesarias" in html and "Finalidades voluntarias" in html
    assert "escriba BAJA" in html and "escriba REVOCO" in html
    assert settings().privacy_notice_url in html


def test_set_facts_and_periods_replace_the_placeholders(console_env, unset, monkeypatch):
    for name, value in FILLED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RETENTION_MEDIA_DAYS", "60")
    app = make_app(console_env)
    app.config["CONSOLE_SETTINGS"] = dataclasses.replace(
        app.config["CONSOLE_SETTINGS"], arco_response_business_days=20
    )
    html = app.test_client().get(PATH).get_data(as_text=True)
    assert "[POR LLENAR" not in html and "[POR CONFIRMAR" not in html
    for value in FILLED.values():
        assert value in html
    assert "20 días hábiles" in html
    assert periods(settings())["media"] == 60  # what the purge applies is what the page says
    assert "<td>60 días (unos 2 meses)</td>" in html and "90 días" not in html


def test_the_short_notice_points_to_this_page(app):
    """The assistant's short notice ends with PRIVACY_NOTICE_URL: its path is this page's."""
    assert urlsplit(f"https://{settings().privacy_notice_url}").path == PATH
    assert app.test_client().get(urlsplit(f"https://{settings().privacy_notice_url}").path).status_code == 200


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium")
def test_the_notice_in_a_browser(console_env, unset):
    if console_env.kind != "sqlite":
        pytest.skip("the browser run uses the SQLite databases (the page is the same)")
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, make_app(console_env, TESTING=False), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="notice-e2e", daemon=True)
    thread.start()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM),
                headless=True,
                args=["--headless", "--no-sandbox", "--disable-gpu"],
            )
            page = browser.new_page(viewport={"width": 1024, "height": 900}, locale="es-MX")
            page.goto(f"http://127.0.0.1:{server.server_port}{PATH}")
            assert page.url.endswith(PATH)  # not sent to the login page
            assert page.get_by_role("heading", name="Aviso de privacidad integral").is_visible()
            assert page.locator("strong.fill").count() == len(PLACEHOLDERS)
            page.screenshot(path=str(ARTIFACTS / "aviso_de_privacidad.png"), full_page=True)
            browser.close()
    finally:
        server.shutdown()
        thread.join(10)
