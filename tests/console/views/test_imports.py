"""CSV upload: the preview with rejected rows and changes to existing records, all or nothing,\napplying invoices and trainings, amount changes only when confirmed."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.console.schema import ConsoleAudit
from bot.db import session_scope
from bot.records.schema import Invoice, Training
from tests.console.conftest import token_of
from tests.records.test_csv_import import invoice_row, invoice_state


def _upload(client, kind: str, content: str, name: str = "archivo.csv"):
    from io import BytesIO

    token = token_of(client, "/importar")
    return client.post(
        "/importar",
        data={"csrf_token": token, "kind": kind, "file": (BytesIO(content.encode("utf-8")), name)},
        content_type="multipart/form-data",
    )


INVOICE_HEADER = (
    "folio,farmer_folio,amount_mxn,status,status_reason,issued_on,scheduled_on,paid_on,bank_reference_last4\n"
)


def test_csv_upload_preview_shows_rejected_rows_and_cannot_apply(console_env, client_for):
    client = client_for("officer")
    content = INVOICE_HEADER + (
        "F-900001,PP-518204,1500.50,scheduled,,2026-11-01,2026-12-05,,\n"
        "F-900002,PP-518204,abc,paid,,2026-11-01,,,\n"
        "F-900003,PP-518204,100,on_hold,,2026-11-01,,,\n"
    )
    response = _upload(client, "invoices", content)
    assert response.status_code == 302
    preview = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<strong>1</strong> fila(s) válidas" in preview
    assert "<strong>2</strong> fila(s) rechazadas" in preview
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
        "F-900012,PP-000000,900,received,,2026-11-02,,,\n"
    )  # unknown farmer: found on apply
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
    response = _upload(
        client, "invoices", INVOICE_HEADER + "F-900021,PP-518204,2450.00,paid,,2026-11-01,,2026-11-20,1234\n"
    )
    location = response.headers["Location"]
    token = token_of(client, location)
    done = client.post(f"{location}/aplicar", data={"csrf_token": token}, follow_redirects=True)
    assert "se aplicaron 1 filas" in done.get_data(as_text=True)
    again = client.post(f"{location}/aplicar", data={"csrf_token": token}, follow_redirects=True)
    assert "ya se aplicó" in again.get_data(as_text=True)
    trainings = (
        "code,topic,title,description,starts_local,timezone,venue,municipality,state,capacity,"
        "latitude,longitude\n"
        "CAP-9001,calidad,Inocuidad en empaque,Buenas prácticas de empaque.,2030-02-10 10:00,"
        "America/Mexico_City,Bodega ejidal,Uruapan,Michoacán,30,,\n"
    )
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
    response = client.post(
        "/importar",
        data={
            "csrf_token": token,
            "kind": "invoices",
            "file": (BytesIO("folio,ñ\n".encode("latin-1")), "x.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "UTF-8" in response.get_data(as_text=True)


# --- rows that change existing records: listed as changes, amounts confirmed ------------------


def _apply(client, location: str, **fields):
    token = token_of(client, location)
    return client.post(f"{location}/aplicar", data={"csrf_token": token, **fields}, follow_redirects=True)


def _amounts_key(html: str) -> str:
    match = re.search(r'name="amounts_key"[^>]*value="([^"]*)"', html) or re.search(
        r'value="([^"]*)"[^>]*name="amounts_key"', html
    )
    return match.group(1) if match else ""


def _audit_details(url: str) -> list[str]:
    with session_scope(url) as session:
        rows = session.execute(select(ConsoleAudit.detail).where(ConsoleAudit.action == "import_csv"))
        return [detail for (detail,) in rows]


def test_a_status_change_is_previewed_as_a_change_and_applied(console_env, client_for):
    client = client_for("officer")
    row = invoice_row(console_env.url, "F-300301", status="scheduled", scheduled_on="2030-01-10")
    location = _upload(client, "invoices", INVOICE_HEADER + row + "\n").headers["Location"]
    preview = client.get(location).get_data(as_text=True)
    assert "<strong>0</strong> nueva(s) · <strong>1</strong> con cambios" in preview
    assert "Cambios a registros existentes" in preview and "Filas nuevas" not in preview
    assert (
        '<td>F-300301</td><td class="num">2</td><td>Estado</td><td>en revisión</td><td>pago programado</td>'
        in preview
    )
    assert "<td>Pago programado</td><td>vacío</td><td>10/01/2030</td>" in preview
    assert "confirm_amounts" not in preview  # no amount changes: nothing to confirm
    done = _apply(client, location).get_data(as_text=True)
    assert "se aplicaron 1 filas (0 nuevas, 1 con cambios, 0 sin cambios)" in done
    state = invoice_state(console_env.url, "F-300301")
    assert (state[0], state[2]) == ("PP-630117", "scheduled")
    assert any("1 filas (archivo.csv): 0 nuevas, 1 con cambios" in d for d in _audit_details(console_env.url))


def test_an_amount_change_is_highlighted_and_needs_the_checkbox(console_env, client_for):
    client = client_for("officer")
    row = invoice_row(console_env.url, "F-300401", amount_mxn="99999.00")
    content = INVOICE_HEADER + row + "\n" + "F-900031,PP-518204,500,received,,2026-11-02,,,\n"
    location = _upload(client, "invoices", content).headers["Location"]
    preview = client.get(location).get_data(as_text=True)
    assert "El archivo cambia el monto de <strong>1</strong> factura(s)" in preview
    assert '<tr class="amount-change"><td>F-300401</td>' in preview
    assert "<mark>$99,999.00</mark>" in preview and 'name="confirm_amounts"' in preview
    key = _amounts_key(preview)
    assert key
    before = invoice_state(console_env.url, "F-300401")
    refused = _apply(client, location, amounts_key=key).get_data(as_text=True)  # box not ticked
    assert "No se aplicó nada: el archivo cambia el monto de 1 factura(s)" in refused
    forged = _apply(client, location, confirm_amounts="y", amounts_key="0" * 20).get_data(as_text=True)
    assert "los cambios de monto ya no son los que usted confirmó" in forged
    assert invoice_state(console_env.url, "F-300401") == before
    with session_scope(console_env.url) as session:
        assert session.execute(select(Invoice).where(Invoice.folio == "F-900031")).first() is None
    done = _apply(client, location, confirm_amounts="y", amounts_key=key).get_data(as_text=True)
    assert "se aplicaron 2 filas (1 nuevas, 1 con cambios, 0 sin cambios)" in done
    assert invoice_state(console_env.url, "F-300401")[1].startswith("99999")
    assert any(
        "montos confirmados: F-300401:" in d and "→ $99,999.00" in d for d in _audit_details(console_env.url)
    )


def test_a_reimported_file_is_all_unchanged_and_offers_nothing_to_apply(console_env, client_for):
    client = client_for("officer")
    content = INVOICE_HEADER + invoice_row(console_env.url, "F-300101") + "\n"
    location = _upload(client, "invoices", content).headers["Location"]
    preview = client.get(location).get_data(as_text=True)
    assert (
        "<strong>0</strong> nueva(s) · <strong>0</strong> con cambios · <strong>1</strong> sin cambios"
        in preview
    )
    assert "no hay nada que aplicar" in preview and "Aplicar las" not in preview
    assert "F-300101" in preview and "Cambios a registros existentes" not in preview
