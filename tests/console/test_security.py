"""Security rules: login on every page, CSRF on every form, roles, audit, a farmer's data only
on their own pages."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.console.schema import ConsoleAudit, ConsoleReply
from bot.db import session_scope
from bot.records.schema import Farmer, FarmerPhone, Invoice
from tests.console.conftest import FAMILY, PAYMENT_REPLY, ROSA, login, token_of

PAGES = [
    "/",
    "/conversaciones",
    f"/conversaciones/{ROSA}",
    "/atencion",
    "/productores",
    "/productores/1",
    "/facturas",
    "/capacitaciones",
    "/capacitaciones/1",
    "/panel",
    "/correcciones",
    "/correcciones/nlu_correcciones.yml",
    "/importar",
    "/cuentas",
    "/auditoria",
]
POSTS = [
    f"/conversaciones/{ROSA}/revision",
    f"/conversaciones/{ROSA}/correccion/1",
    f"/conversaciones/{ROSA}/responder",
    "/atencion/1",
    "/importar",
    "/importar/1/aplicar",
    "/cuentas",
    "/cuentas/1",
    "/salir",
]


@pytest.mark.parametrize("path", PAGES + POSTS)
def test_nothing_without_login(app, path):
    client = app.test_client()
    response = client.get(path) if path in PAGES else client.post(path, data={})
    if path in POSTS and response.status_code == 400:
        return  # CSRF is checked first for an anonymous POST: refused either way
    assert response.status_code == 302
    assert "/entrar" in response.headers["Location"]


def test_login_page_and_wrong_password(app):
    client = app.test_client()
    page = client.get("/entrar").get_data(as_text=True)
    assert 'lang="es-MX"' in page and "Contraseña" in page
    response = login(client, "officer", "contraseña-incorrecta")
    assert response.status_code == 200
    assert "Usuario o contraseña incorrectos" in response.get_data(as_text=True)
    assert client.get("/conversaciones").status_code == 302


def test_login_post_without_csrf_is_refused(app):
    client = app.test_client()
    response = client.post("/entrar", data={"username": "officer", "password": "clave-de-prueba-123"})
    assert response.status_code == 400


@pytest.mark.parametrize("path", POSTS)
def test_every_form_needs_its_csrf_token(client_for, path):
    client = client_for("admin")
    response = client.post(
        path, data={"body": "hola", "medium": "sms", "reviewed": "y", "role": "viewer", "active": "y"}
    )
    assert response.status_code == 400, path
    # and still logged in: the refused POST changed nothing
    assert client.get("/conversaciones").status_code == 200


def test_open_redirect_after_login_is_ignored(app):
    client = app.test_client()
    token = token_of(client, "/entrar")
    response = client.post(
        "/entrar?next=https://evil.example/",
        data={"username": "viewer", "password": "clave-de-prueba-123", "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/conversaciones")


def test_logout_needs_post_with_token(client_for):
    client = client_for("viewer")
    token = token_of(client, "/conversaciones")
    assert client.post("/salir", data={"csrf_token": token}).status_code == 302
    assert client.get("/conversaciones").status_code == 302


def test_viewer_cannot_reply_review_correct_upload_or_manage(client_for):
    client = client_for("viewer")
    page = client.get(f"/conversaciones/{ROSA}").get_data(as_text=True)
    assert "Responder al productor" not in page
    assert "Guardar corrección" not in page
    token = token_of(client, "/conversaciones")
    for path in (
        f"/conversaciones/{ROSA}/responder",
        f"/conversaciones/{ROSA}/revision",
        "/atencion/1",
        "/importar",
        "/cuentas",
    ):
        response = client.post(path, data={"csrf_token": token, "body": "hola", "medium": "sms"})
        assert response.status_code == 403, path
    for path in ("/importar", "/cuentas", "/auditoria", "/correcciones"):
        assert client.get(path).status_code == 403, path


def test_officer_cannot_manage_accounts(client_for):
    client = client_for("officer")
    assert client.get("/cuentas").status_code == 403
    assert client.get("/auditoria").status_code == 403


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


def test_viewer_post_reply_sends_nothing(console_env, client_for):
    client = client_for("viewer")
    token = token_of(client, "/conversaciones")
    client.post(f"/conversaciones/{ROSA}/responder", data={"csrf_token": token, "body": "x", "medium": "sms"})
    with session_scope(console_env.url) as session:
        assert (
            session.execute(select(func.count(ConsoleReply.id)).where(ConsoleReply.body == "x")).scalar() == 0
        )


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
