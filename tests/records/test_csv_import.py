"""Staff load real records from CSV: a bad row is reported with its line, nothing is half-applied."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from bot.db import session_scope
from bot.records.schema import AvocadoCalibre, Invoice, Training

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
