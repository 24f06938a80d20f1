"""Attacks on CSV imports: moving an existing invoice to another farmer, and changing its amount
without the confirmation staff must give, from the command line and through the console upload
(forged form posts included), on SQLite and PostgreSQL."""

from __future__ import annotations

from io import BytesIO

from sqlalchemy import select

from bot.db import session_scope
from bot.records.schema import Invoice
from tests.console.conftest import app, client_for, console_env, token_of  # noqa: F401  (fixtures)
from tests.records.test_csv_import import INVOICE_HEADER, invoice_row, invoice_state, run_cli

# The attack: Rosa's invoice F-300102 (PP-518204) under Adriana's folio, with a new amount.
ATTACK_ROW = "F-300102,PP-741365,100,paid,,{issued},{scheduled},{scheduled},1234"
GOOD_ROW = "F-940001,PP-741365,250,received,,2026-11-25,,,"


def _attack_file(url: str, *extra: str) -> str:
    with session_scope(url) as s:
        invoice = s.execute(select(Invoice).where(Invoice.folio == "F-300102")).scalar_one()
        issued, scheduled = invoice.issued_on, invoice.scheduled_on or invoice.issued_on
    return "\n".join([INVOICE_HEADER, ATTACK_ROW.format(issued=issued, scheduled=scheduled), *extra]) + "\n"


def _exists(url: str, folio: str) -> bool:
    with session_scope(url) as s:
        return s.execute(select(Invoice.id).where(Invoice.folio == folio)).first() is not None


def test_cli_import_cannot_move_an_invoice_to_another_farmer(seeded_db, tmp_path, attack):
    before = invoice_state(seeded_db, "F-300102")
    assert before[0] == "PP-518204"
    path = tmp_path / "attack.csv"
    path.write_text(_attack_file(seeded_db, GOOD_ROW), encoding="utf-8")
    for flags in ((), ("--dry-run",), ("--confirm-amounts",)):
        result = run_cli("import-csv", "invoices", str(path), *flags, env_url=seeded_db)
        after = invoice_state(seeded_db, "F-300102")
        attack(
            f"CLI import-csv invoices{''.join(' ' + f for f in flags)}: F-300102 (Rosa, PP-518204) under PP-741365, "
            "amount 100, paid, plus a valid new row",
            f"exit {result.returncode}: {result.stderr.splitlines()[0] if result.stderr else result.stdout!r}; "
            f"F-300102 still {after[0]} {after[1]} {after[2]}, unchanged: {after == before}; "
            f"new row applied: {_exists(seeded_db, 'F-940001')}",
        )
        assert result.returncode == 1
        assert "la factura F-300102 ya es del productor PP-518204" in result.stderr
        assert "No se aplicó nada" in result.stderr and "Listo" not in result.stdout
        assert after == before
        assert not _exists(seeded_db, "F-940001")


def test_cli_import_cannot_hand_over_a_new_folio_twice_in_one_file(seeded_db, tmp_path, attack):
    path = tmp_path / "twice.csv"
    path.write_text(
        f"{INVOICE_HEADER}\nF-940002,PP-518204,100,received,,2026-11-25,,,\n"
        "F-940002,PP-741365,9999,paid,,2026-11-25,,2026-11-26,1234\n",
        encoding="utf-8",
    )
    result = run_cli("import-csv", "invoices", str(path), "--confirm-amounts", env_url=seeded_db)
    attack(
        "CLI import-csv invoices: a new folio F-940002 for PP-518204, then again for PP-741365 (9999, paid)",
        f"exit {result.returncode}: {result.stderr.splitlines()[0]!r}; applied: {_exists(seeded_db, 'F-940002')}",
    )
    assert result.returncode == 1 and "ya está en la línea 2 del archivo" in result.stderr
    assert not _exists(seeded_db, "F-940002")


def test_cli_import_cannot_change_an_amount_unconfirmed(seeded_db, tmp_path, attack):
    before = invoice_state(seeded_db, "F-300101")
    path = tmp_path / "amount.csv"
    path.write_text(
        f"{INVOICE_HEADER}\n{invoice_row(seeded_db, 'F-300101', amount_mxn='1.00')}\n", encoding="utf-8"
    )
    result = run_cli("import-csv", "invoices", str(path), env_url=seeded_db)
    attack(
        "CLI import-csv invoices: Rosa's F-300101 (same farmer) with amount 1.00, no --confirm-amounts",
        f"exit {result.returncode}: {result.stderr.strip()[:90]!r}…; unchanged: {invoice_state(seeded_db, 'F-300101') == before}",
    )
    assert result.returncode == 2 and "--confirm-amounts" in result.stderr
    assert invoice_state(seeded_db, "F-300101") == before


# --- the console upload ---------------------------------------------------------------------------


def _upload(client, content: str) -> str:
    token = token_of(client, "/importar")
    response = client.post(
        "/importar",
        data={
            "csrf_token": token,
            "kind": "invoices",
            "file": (BytesIO(content.encode("utf-8")), "ataque.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    return response.headers["Location"]


def test_console_upload_cannot_move_an_invoice_to_another_farmer(console_env, client_for, attack):  # noqa: F811
    url = console_env.url
    before = invoice_state(url, "F-300102")
    client = client_for("officer")
    location = _upload(client, _attack_file(url, GOOD_ROW))
    preview = client.get(location).get_data(as_text=True)
    token = token_of(client, location)
    forged = client.post(  # the page offers no button: post the form anyway, "confirming" amounts
        f"{location}/aplicar",
        data={"csrf_token": token, "confirm_amounts": "y", "amounts_key": "x"},
        follow_redirects=True,
    ).get_data(as_text=True)
    after = invoice_state(url, "F-300102")
    attack(
        "console upload (officer) of F-300102 (Rosa) under PP-741365, amount 100, paid, plus a valid "
        "row; then a forged POST /aplicar with confirm_amounts",
        f"preview: row rejected {'ya es del productor PP-518204' in preview}, apply button "
        f"{'Aplicar las' in preview}; POST: {'no se aplicó nada' in forged}; F-300102 still "
        f"{after[0]} {after[1]} {after[2]}, unchanged: {after == before}; new row applied: {_exists(url, 'F-940001')}",
    )
    assert "la factura F-300102 ya es del productor PP-518204" in preview and "Aplicar las" not in preview
    assert "El archivo tiene filas con error: no se aplicó nada." in forged
    assert after == before and not _exists(url, "F-940001")


def test_console_amount_change_needs_the_confirmation_server_side(console_env, client_for, attack):  # noqa: F811
    url = console_env.url
    before = invoice_state(url, "F-300201")
    client = client_for("officer")
    location = _upload(client, f"{INVOICE_HEADER}\n{invoice_row(url, 'F-300201', amount_mxn='1.00')}\n")
    token = token_of(client, location)
    tries = {
        "no checkbox": {},
        "checkbox, no key": {"confirm_amounts": "y"},
        "checkbox, forged key": {"confirm_amounts": "y", "amounts_key": "f" * 20},
    }
    answers = {}
    for name, fields in tries.items():
        page = client.post(f"{location}/aplicar", data={"csrf_token": token, **fields}, follow_redirects=True)
        answers[name] = "No se aplicó nada" in page.get_data(as_text=True)
    after = invoice_state(url, "F-300201")
    attack(
        "console POST /aplicar of an upload changing F-300201's amount to 1.00: " + "; ".join(tries),
        f"refused: {answers}; F-300201 unchanged: {after == before}",
    )
    assert all(answers.values())
    assert after == before
