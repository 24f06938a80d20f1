"""Staff load real records from CSV: a bad row is reported with its line, nothing is half-applied."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.db import session_scope
from bot.records import csv_import
from bot.records.schema import AvocadoCalibre, Farmer, Invoice, Training

ROOT = Path(__file__).resolve().parents[2]

INVOICES_OK = """folio,farmer_folio,amount_mxn,status,status_reason,issued_on,scheduled_on,paid_on,bank_reference_last4
F-900001,PP-518204,"12,500.00",scheduled,,2026-11-20,2026-11-27,,
F-900002,PP-741365,3400.5,on_hold,Falta el XML del CFDI.,2026-11-21,,,
"""
INVOICES_BAD = """folio,farmer_folio,amount_mxn,status,status_reason,issued_on,scheduled_on,paid_on,bank_reference_last4
F-900003,PP-518204,1000,scheduled,,2026-11-20,2026-11-27,,
F-900004,PP-518204,mil pesos,paid,,2026-11-20,,,
F-900005,PP-518204,1000,pagada,,2026-11-20,,,
F-900006,PP-518204,1000,paid,,20/11/2026,,2026-11-27,1234
"""


@pytest.fixture(scope="module")
def seeded_db(own_seeded_db):
    """This module's own: its imports add and change invoices the assistant's tests read."""
    return own_seeded_db


def run_cli(*args: str, env_url: str) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ, DATABASE_URL=env_url),
    )


def _count(url: str, model, *where) -> int:
    with session_scope(url) as s:
        return s.execute(select(func.count(model.id)).where(*where)).scalar()


def test_good_invoices_file_is_applied(seeded_db, tmp_path):
    path = tmp_path / "invoices.csv"
    path.write_text(INVOICES_OK, encoding="utf-8")
    result = run_cli("import-csv", "invoices", str(path), env_url=seeded_db)
    assert result.returncode == 0, result.stderr
    assert "2 fila(s)" in result.stdout
    with session_scope(seeded_db) as s:
        invoice = s.execute(select(Invoice).where(Invoice.folio == "F-900001")).scalar_one()
        assert str(invoice.amount_mxn) in ("12500.00", "12500")


def test_bad_rows_are_reported_by_line_and_nothing_is_applied(seeded_db, tmp_path):
    path = tmp_path / "invoices.csv"
    path.write_text(INVOICES_BAD, encoding="utf-8")
    result = run_cli("import-csv", "invoices", str(path), env_url=seeded_db)
    assert result.returncode == 1
    assert "línea 3: amount_mxn: no es un monto" in result.stderr
    assert "línea 4: status: 'pagada' no es válido" in result.stderr
    assert "línea 5: issued_on: fecha inválida" in result.stderr
    assert _count(seeded_db, Invoice, Invoice.folio == "F-900003") == 0  # the good row too


def test_unknown_farmer_rejects_the_whole_file(seeded_db, tmp_path):
    path = tmp_path / "invoices.csv"
    content = INVOICES_OK.replace("F-9000", "F-9100").replace("PP-741365", "PP-000000")
    path.write_text(content, encoding="utf-8")
    result = run_cli("import-csv", "invoices", str(path), env_url=seeded_db)
    assert result.returncode == 1 and "PP-000000" in result.stderr
    assert _count(seeded_db, Invoice, Invoice.folio.in_(["F-910001", "F-910002"])) == 0


def test_trainings_in_local_time_become_utc(seeded_db, tmp_path):
    path = tmp_path / "trainings.csv"
    path.write_text(
        "code,topic,title,description,starts_local,timezone,venue,municipality,state,capacity,latitude,longitude\n"
        "CAP-9001,regenerativa,Cultivos de cobertura,Práctica en parcela,2027-02-06 10:00,America/Hermosillo,"
        "Ejido La Victoria,Hermosillo,Sonora,25,29.07,-110.95\n",
        encoding="utf-8",
    )
    assert run_cli("import-csv", "trainings", str(path), env_url=seeded_db).returncode == 0
    with session_scope(seeded_db) as s:
        training = s.execute(select(Training).where(Training.code == "CAP-9001")).scalar_one()
        assert training.starts_at_utc().hour == 17  # 10:00 in Sonora (UTC-7, no daylight saving)


def test_reference_tables_refuse_low_confidence_rows(seeded_db, tmp_path):
    path = tmp_path / "calibres.csv"
    path.write_text(
        "calibre,weight_min_g,weight_max_g,label,purchased,source,confidence\n"
        "84,106,135,chico,false,ecofarmsusa.com,LOW\n",
        encoding="utf-8",
    )
    result = run_cli("import-csv", "avocado_calibres", str(path), env_url=seeded_db)
    assert result.returncode == 1 and "VERIFIED o SECONDARY" in result.stderr
    assert _count(seeded_db, AvocadoCalibre) == 7


# --- a row compared with the record it names: new, changed (old → new), unchanged -------------

INVOICE_HEADER = INVOICES_OK.splitlines()[0]
INVOICE_COLUMNS = INVOICE_HEADER.split(",")


def invoice_row(url: str, folio: str, **changes: str) -> str:
    """The CSV line of an invoice as it is in the records, with some values changed."""
    with session_scope(url) as s:
        invoice = s.execute(select(Invoice).where(Invoice.folio == folio)).scalar_one()
        values = {name: getattr(invoice, name) for name in INVOICE_COLUMNS if name != "farmer_folio"}
        values["farmer_folio"] = invoice.farmer.folio
    values.update(changes)
    return ",".join("" if values[c] is None else str(values[c]) for c in INVOICE_COLUMNS)


def invoice_state(url: str, folio: str) -> tuple:
    """What an import must not touch by accident: farmer, amount, status, dates, last update."""
    with session_scope(url) as s:
        i = s.execute(select(Invoice).where(Invoice.folio == folio)).scalar_one()
        return (i.farmer.folio, str(i.amount_mxn), i.status, i.paid_on, i.bank_reference_last4, i.updated_at)


def _write(tmp_path: Path, name: str, *lines: str) -> str:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _new_invoice(url: str, tmp_path: Path, folio: str, amount: str = "1000.00") -> None:
    path = _write(
        tmp_path, "new.csv", INVOICE_HEADER, f"{folio},PP-518204,{amount},scheduled,,2026-11-20,2026-11-27,,"
    )
    assert run_cli("import-csv", "invoices", path, env_url=url).returncode == 0


def test_status_and_dates_of_an_existing_invoice_are_shown_as_a_change_and_applied(seeded_db, tmp_path):
    _new_invoice(seeded_db, tmp_path, "F-920001")
    row = invoice_row(seeded_db, "F-920001", status="paid", paid_on="2026-11-27", bank_reference_last4="4821")
    path = _write(tmp_path, "paid.csv", INVOICE_HEADER, row)
    dry = run_cli("import-csv", "invoices", path, "--dry-run", env_url=seeded_db)
    assert dry.returncode == 0, dry.stderr
    assert "0 nueva(s), 1 con cambios, 0 sin cambios" in dry.stdout
    assert "cambia F-920001 (línea 2): status: scheduled → paid; paid_on: vacío → 2026-11-27" in dry.stdout
    assert invoice_state(seeded_db, "F-920001")[2] == "scheduled"  # a dry run writes nothing
    done = run_cli("import-csv", "invoices", path, env_url=seeded_db)
    assert done.returncode == 0, done.stderr
    assert "Listo: 1 fila(s) de invoices aplicadas (0 nueva(s), 1 con cambios, 0 sin cambios)" in done.stdout
    farmer, amount, status, paid_on, last4, _ = invoice_state(seeded_db, "F-920001")
    assert (farmer, status, str(paid_on), last4) == ("PP-518204", "paid", "2026-11-27", "4821")
    assert amount.startswith("1000")


def test_an_amount_change_is_listed_and_applied_only_when_confirmed(seeded_db, tmp_path):
    _new_invoice(seeded_db, tmp_path, "F-920002")
    new_row = "F-920003,PP-518204,300,received,,2026-11-25,,,"
    path = _write(
        tmp_path,
        "amount.csv",
        INVOICE_HEADER,
        invoice_row(seeded_db, "F-920002", amount_mxn="1200.00"),
        new_row,
    )
    dry = run_cli("import-csv", "invoices", path, "--dry-run", env_url=seeded_db)
    assert dry.returncode == 0, dry.stderr
    assert "amount_mxn: $1,000.00 → $1,200.00 (cambio de monto)" in dry.stdout
    assert "1 cambio(s) de monto: se aplican solo con --confirm-amounts" in dry.stdout
    before = invoice_state(seeded_db, "F-920002")
    refused = run_cli("import-csv", "invoices", path, env_url=seeded_db)
    assert refused.returncode == 2
    assert "No se aplicó nada: el archivo cambia el monto de 1 factura(s)" in refused.stderr
    assert "F-920002: $1,000.00 → $1,200.00" in refused.stderr and "--confirm-amounts" in refused.stderr
    assert invoice_state(seeded_db, "F-920002") == before
    assert _count(seeded_db, Invoice, Invoice.folio == "F-920003") == 0  # nothing from the file
    done = run_cli("import-csv", "invoices", path, "--confirm-amounts", env_url=seeded_db)
    assert done.returncode == 0, done.stderr
    assert "(1 nueva(s), 1 con cambios, 0 sin cambios)" in done.stdout
    assert invoice_state(seeded_db, "F-920002")[1].startswith("1200")
    assert _count(seeded_db, Invoice, Invoice.folio == "F-920003") == 1


def test_reimporting_the_same_file_reports_everything_unchanged(seeded_db, tmp_path):
    content = INVOICES_OK.replace("F-9000", "F-9300")
    path = _write(tmp_path, "again.csv", content.strip())
    first = run_cli("import-csv", "invoices", path, env_url=seeded_db)
    assert "(2 nueva(s), 0 con cambios, 0 sin cambios)" in first.stdout, first.stderr
    before = invoice_state(seeded_db, "F-930001")
    for extra in (["--dry-run"], []):
        again = run_cli("import-csv", "invoices", path, *extra, env_url=seeded_db)
        assert again.returncode == 0, again.stderr
        assert "0 nueva(s), 0 con cambios, 2 sin cambios" in again.stdout
        assert "cambia" not in again.stdout
    assert invoice_state(seeded_db, "F-930001") == before  # not even rewritten (updated_at)


def test_a_folio_repeated_in_the_file_is_a_row_error(seeded_db, tmp_path):
    path = _write(
        tmp_path,
        "twice.csv",
        INVOICE_HEADER,
        "F-920010,PP-518204,100,received,,2026-11-25,,,",
        "F-920010,PP-741365,100,received,,2026-11-25,,,",
    )
    result = run_cli("import-csv", "invoices", path, env_url=seeded_db)
    assert result.returncode == 1
    assert "línea 3: folio: F-920010 ya está en la línea 2 del archivo" in result.stderr
    assert _count(seeded_db, Invoice, Invoice.folio == "F-920010") == 0


def test_amount_confirmation_covers_only_the_changes_the_report_listed(seeded_db, tmp_path):
    """A report read without comparing (or compared before the records changed) lists other
    amount changes than the ones found when applying: confirming it confirms nothing."""
    _new_invoice(seeded_db, tmp_path, "F-920020")
    content = INVOICE_HEADER + "\n" + invoice_row(seeded_db, "F-920020", amount_mxn="999.00") + "\n"
    with session_scope(seeded_db) as s:
        listed = csv_import.check(s, "invoices", content)
        assert [(r.key, str(c)) for r, c in listed.amount_changes] == [
            ("F-920020", "amount_mxn: $1,000.00 → $999.00")
        ]
        with pytest.raises(csv_import.AmountsNotConfirmed):
            csv_import.apply(s, listed)
        with pytest.raises(csv_import.AmountsNotConfirmed, match="ya no son los que se revisaron"):
            csv_import.apply(s, csv_import.read_csv("invoices", content), confirm_amounts=True)
    assert invoice_state(seeded_db, "F-920020")[1].startswith("1000")


FARMER_HEADER = "folio,name,phones,state,municipality,organisation,crops,preferred_medium"


def test_an_existing_farmer_is_updated_and_each_change_listed(seeded_db, tmp_path):
    new = _write(
        tmp_path,
        "farmer.csv",
        FARMER_HEADER,
        "PP-920001,Ana Torres,4431234567,Michoacán,Uruapan,,aguacate,sms",
    )
    assert "(1 nueva(s)" in run_cli("import-csv", "farmers", new, env_url=seeded_db).stdout
    with session_scope(seeded_db) as s:
        farmer = s.execute(select(Farmer).where(Farmer.folio == "PP-920001")).scalar_one()
        farmer.crops[0].hectares = 2  # set by staff: an import keeps it while the crop stays
    changed = _write(
        tmp_path,
        "farmer2.csv",
        FARMER_HEADER,
        "PP-920001,Ana Torres Díaz,4431234567;4437654321,Michoacán,Uruapan,,aguacate;zarzamora,whatsapp",
    )
    dry = run_cli("import-csv", "farmers", changed, "--dry-run", env_url=seeded_db)
    assert "0 nueva(s), 1 con cambios, 0 sin cambios" in dry.stdout, dry.stderr
    assert "name: Ana Torres → Ana Torres Díaz" in dry.stdout
    assert "phones: +524431234567 → +524431234567; +524437654321" in dry.stdout
    assert "crops: aguacate → aguacate; zarzamora" in dry.stdout
    result = run_cli("import-csv", "farmers", changed, env_url=seeded_db)
    assert result.returncode == 0, result.stderr  # updating a farmer's phones used to fail
    with session_scope(seeded_db) as s:
        farmer = s.execute(select(Farmer).where(Farmer.folio == "PP-920001")).scalar_one()
        assert sorted(p.phone for p in farmer.phones) == ["+524431234567", "+524437654321"]
        assert {c.product: c.hectares for c in farmer.crops} == {"aguacate": 2, "zarzamora": None}
        assert (farmer.name, farmer.preferred_medium) == ("Ana Torres Díaz", "whatsapp")


TRAINING_HEADER = (
    "code,topic,title,description,starts_local,timezone,venue,municipality,state,capacity,latitude,longitude"
)


def test_training_changes_are_listed_and_capacity_under_enrolled_is_refused(seeded_db, tmp_path):
    row = (
        "CAP-9201,calidad,Inocuidad,Práctica,2027-02-06 10:00,America/Hermosillo,Ejido,Hermosillo,Sonora,25,,"
    )
    assert (
        run_cli(
            "import-csv", "trainings", _write(tmp_path, "t.csv", TRAINING_HEADER, row), env_url=seeded_db
        ).returncode
        == 0
    )
    moved = _write(tmp_path, "t2.csv", TRAINING_HEADER, row.replace("10:00", "11:30").replace(",25,", ",30,"))
    dry = run_cli("import-csv", "trainings", moved, "--dry-run", env_url=seeded_db)
    assert (
        "cambia CAP-9201 (línea 2): starts_local: 2027-02-06 10:00 → 2027-02-06 11:30; capacity: 25 → 30"
        in dry.stdout
    )
    assert run_cli("import-csv", "trainings", moved, env_url=seeded_db).returncode == 0
    with session_scope(seeded_db) as s:
        training = s.execute(select(Training).where(Training.code == "CAP-9201")).scalar_one()
        assert (training.starts_at_utc().hour, training.starts_at_utc().minute, training.capacity) == (
            18,
            30,
            30,
        )
        full = s.execute(select(Training).where(Training.seats_taken > 1)).scalars().first()
        code, taken = full.code, full.seats_taken
    smaller = row.replace("CAP-9201", code).replace(",25,", f",{taken - 1},")
    result = run_cli(
        "import-csv", "trainings", _write(tmp_path, "t3.csv", TRAINING_HEADER, smaller), env_url=seeded_db
    )
    assert result.returncode == 1
    assert f"línea 2: capacity: el cupo es menor que los inscritos ({taken})" in result.stderr


def test_a_hold_reason_code_is_imported_checked_and_cleared_once_the_invoice_moves_on(seeded_db, tmp_path):
    header = INVOICE_HEADER + ",status_reason_code"
    held = _write(
        tmp_path,
        "held.csv",
        header,
        "F-920090,PP-518204,500,on_hold,Falta el XML.,2026-11-20,,,,missing_cfdi_xml",
    )
    assert run_cli("import-csv", "invoices", held, env_url=seeded_db).returncode == 0
    with session_scope(seeded_db) as s:
        assert s.execute(select(Invoice.status_reason_code).where(Invoice.folio == "F-920090")).scalar() == (
            "missing_cfdi_xml"
        )
    bad = _write(tmp_path, "bad.csv", header, "F-920091,PP-518204,500,on_hold,X,2026-11-20,,,,no_such_reason")
    refused = run_cli("import-csv", "invoices", bad, env_url=seeded_db)
    assert refused.returncode == 1 and "status_reason_code" in refused.stdout + refused.stderr
    paid = _write(tmp_path, "paid.csv", header, "F-920090,PP-518204,500,paid,,2026-11-20,,2026-11-28,4821,")
    assert run_cli("import-csv", "invoices", paid, env_url=seeded_db).returncode == 0
    with session_scope(seeded_db) as s:
        assert (
            s.execute(select(Invoice.status_reason_code).where(Invoice.folio == "F-920090")).scalar() is None
        )
