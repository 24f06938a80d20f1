"""Security rules that are not attacks (those are in tests/security/test_console.py): the login
page and its audit, signing out, amounts masked for viewers, the audit of views of personal data,
a farmer's data only on their own pages, headers, HTTPS settings, the trusted proxy, password
hashing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.console.schema import ConsoleAudit, ConsoleLogin
from bot.db import session_scope
from bot.records.schema import Farmer, FarmerPhone, Invoice
from tests.console.conftest import FAMILY, PAYMENT_REPLY, ROSA, login, make_app, token_of


def test_login_page_and_wrong_password(app):
    client = app.test_client()
    page = client.get("/entrar").get_data(as_text=True)
    assert 'lang="es-MX"' in page and "Contraseña" in page
    response = login(client, "officer", "contraseña-incorrecta")
    assert response.status_code == 200
    assert "Usuario o contraseña incorrectos" in response.get_data(as_text=True)
    assert client.get("/conversaciones").status_code == 302


def test_logout_needs_post_with_token(client_for):
    client = client_for("viewer")
    token = token_of(client, "/conversaciones")
    assert client.post("/salir", data={"csrf_token": token}).status_code == 302
    assert client.get("/conversaciones").status_code == 302


def test_viewer_sees_no_amounts(console_env, client_for):
    with session_scope(console_env.url) as session:
        rosa = session.execute(select(Farmer).join(FarmerPhone).where(FarmerPhone.phone == ROSA)).scalar_one()
        amounts = [
            f"{i.amount_mxn:,.2f}"
            for i in session.execute(select(Invoice).where(Invoice.farmer_id == rosa.id)).scalars()
        ]
        farmer_id = rosa.id
    assert amounts
    viewer, officer = client_for("viewer"), client_for("officer")
    for path in (f"/productores/{farmer_id}", "/facturas?q=Rosa", f"/conversaciones/{ROSA}"):
        seen = viewer.get(path).get_data(as_text=True)
        assert not any(a in seen for a in amounts), path
        assert "37,765.00" not in seen
    transcript = viewer.get(f"/conversaciones/{ROSA}").get_data(as_text=True)
    assert "$ •••••" in transcript and "F-204518" in transcript
    officer_page = officer.get(f"/productores/{farmer_id}").get_data(as_text=True)
    assert any(a in officer_page for a in amounts)
    assert "37,765.00" in officer.get(f"/conversaciones/{ROSA}").get_data(as_text=True)


def test_views_of_personal_and_payment_data_are_audited(console_env, client_for):
    client = client_for("officer")
    with session_scope(console_env.url) as session:
        farmer_id = session.execute(select(FarmerPhone.farmer_id).where(FarmerPhone.phone == ROSA)).scalar()
        before = session.execute(select(func.max(ConsoleAudit.id))).scalar() or 0
    client.get(f"/conversaciones/{ROSA}")
    client.get(f"/productores/{farmer_id}")
    client.get("/facturas")
    with session_scope(console_env.url) as session:
        rows = (
            session.execute(select(ConsoleAudit).where(ConsoleAudit.id > before).order_by(ConsoleAudit.id))
            .scalars()
            .all()
        )
    actions = [(r.username, r.action, r.farmer_id, r.phone) for r in rows]
    assert ("officer", "view_transcript", farmer_id, ROSA) in actions
    assert ("officer", "view_farmer", farmer_id, None) in actions
    assert ("officer", "view_payments", farmer_id, None) in actions
    assert any(a[1] == "view_payments" and a[2] is None for a in actions)  # the invoice list
    assert all(r.at is not None for r in rows)


def test_farmer_data_only_in_their_own_pages(console_env, client_for):
    client = client_for("officer")
    with session_scope(console_env.url) as session:
        ids = (
            session.execute(
                select(FarmerPhone.farmer_id)
                .where(FarmerPhone.phone == FAMILY)
                .order_by(FarmerPhone.farmer_id)
            )
            .scalars()
            .all()
        )
        rosa_id = session.execute(select(FarmerPhone.farmer_id).where(FarmerPhone.phone == ROSA)).scalar()
        own = {
            fid: [i.folio for i in session.execute(select(Invoice).where(Invoice.farmer_id == fid)).scalars()]
            for fid in [*ids, rosa_id]
        }
    assert len(ids) == 2  # a shared family phone
    rosa_page = client.get(f"/productores/{rosa_id}").get_data(as_text=True)
    for fid in ids:
        for folio in own[fid]:
            assert folio not in rosa_page
    first = client.get(f"/productores/{ids[0]}").get_data(as_text=True)
    for folio in own[ids[1]]:
        assert folio not in first
    # one phone's transcript never shows another phone's messages
    transcript = client.get(f"/conversaciones/{ROSA}").get_data(as_text=True)
    assert "kalibre" not in transcript and PAYMENT_REPLY.split(" por")[0] in transcript


def test_security_headers_and_no_script(client_for):
    client = client_for("officer")
    response = client.get(f"/conversaciones/{ROSA}")
    assert "script-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    assert "<script" not in response.get_data(as_text=True)


def test_passwords_are_hashed_with_a_current_algorithm(console_env):
    from bot.console.schema import ConsoleUser

    with session_scope(console_env.url) as session:
        hashes = session.execute(select(ConsoleUser.password_hash)).scalars().all()
    assert hashes and all(h.startswith(("scrypt:", "pbkdf2:")) for h in hashes)
    assert all("clave-de-prueba" not in h for h in hashes)


def test_every_login_is_audited_with_its_address(console_env, app):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "192.0.2.44"
    login(client, "officer", "contraseña-incorrecta")
    login(client, "officer")
    with session_scope(console_env.url) as session:
        rows = (
            session.execute(
                select(ConsoleLogin).where(ConsoleLogin.address == "192.0.2.44").order_by(ConsoleLogin.id)
            )
            .scalars()
            .all()
        )
    assert [(r.username, r.outcome, r.user_id is not None) for r in rows] == [
        ("officer", "failure", False),
        ("officer", "success", True),
    ]


@pytest.mark.parametrize("https", [True, False])
def test_https_settings_secure_cookies_and_hsts(console_env, https):
    client = make_app(console_env, https=https).test_client()
    response = login(client, "viewer")
    session_cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert ("; Secure" in session_cookie) is https and "; HttpOnly" in session_cookie
    assert ("Strict-Transport-Security" in response.headers) is https
    if https:
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(console_env):
    client = make_app(console_env, trusted_proxies=1).test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "192.0.2.55"
    login(client, "nadie-detras-del-proxy", "contraseña-incorrecta")
    with session_scope(console_env.url) as session:
        address = session.execute(
            select(ConsoleLogin.address).where(ConsoleLogin.username == "nadie-detras-del-proxy")
        ).scalar_one()
    assert address == "192.0.2.55"
