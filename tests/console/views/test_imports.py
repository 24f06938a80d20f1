"""CSV upload: the preview with rejected rows, all or nothing, applying invoices and trainings."""

from __future__ import annotations

from sqlalchemy import select

from bot.db import session_scope
from bot.records.schema import Invoice, Training
from tests.console.conftest import token_of


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
