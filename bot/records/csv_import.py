"""Loading program records from CSV files. Reading a file checks every row and compares it with
the record it names, without writing: each row is new, unchanged, changed (which values, old →
new) or refused with its line and reason. Applying writes the new and changed rows in the caller's
unit of work: all of them or, on any error, none.

What an import may change: an invoice keeps its farmer (a row naming an existing folio under
another farmer is refused) and a changed amount is applied only when the caller confirms the
amount changes its report lists; farmers and trainings are updated by folio or code, each change
listed; the reference tables (quality_standards, avocado_calibres) are replaced whole. Columns and
value parsers: csv_kinds.py.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from bot.db import chunks
from bot.records.csv_kinds import (
    AMOUNT,
    CHANGED,
    KINDS,
    NEW,
    UNCHANGED,
    FieldChange,
    ImportReport,
    Row,
    RowError,
)
from bot.records.schema import (
    AvocadoCalibre,
    Farmer,
    FarmerCrop,
    FarmerPhone,
    Invoice,
    Organisation,
    QualityStandard,
    Training,
)
from bot.timeutil import as_utc

# The values an import may change on an existing record (an invoice's farmer is not one of them).
FARMER_FIELDS = ("name", "state", "municipality", "preferred_medium")
INVOICE_FIELDS = (
    AMOUNT,
    "status",
    "status_reason",
    "status_reason_code",
    "issued_on",
    "scheduled_on",
    "paid_on",
    "bank_reference_last4",
)
TRAINING_FIELDS = (
    "topic",
    "title",
    "description",
    "timezone",
    "venue",
    "municipality",
    "state",
    "capacity",
    "latitude",
    "longitude",
)


# Columns a file may leave out (older files have no reason codes).
OPTIONAL_COLUMNS = ("latitude", "longitude", "bank_reference_last4", "status_reason_code")


class AmountsNotConfirmed(RowError):
    """Amount changes the caller did not confirm, or not the ones it confirmed."""


def read_csv(kind: str, content: str) -> ImportReport:
    """Checks every row on its own (values, a key repeated in the file); reads no records."""
    spec = KINDS[kind]
    report = ImportReport(kind)
    reader = csv.DictReader(io.StringIO(content.lstrip("\ufeff")))
    missing = [c for c in spec.columns if c not in (reader.fieldnames or [])]
    required = [c for c in missing if c not in OPTIONAL_COLUMNS]
    if required:
        report.errors.append((1, f"faltan columnas: {', '.join(required)}"))
        return report
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        try:
            parsed = {}
            for name, parse in spec.columns.items():
                try:
                    parsed[name] = parse(row.get(name) or "")
                except RowError as error:
                    raise RowError(f"{name}: {error}") from None
            spec.check(parsed)
            key = str(parsed[spec.key]) if spec.key else ""
            if key in seen:
                raise RowError(f"{spec.key}: {key} ya está en la línea {seen[key]} del archivo")
            if key:
                seen[key] = line
            report.rows.append(Row(line, parsed, key))
        except RowError as error:
            report.errors.append((line, str(error)))
    return report


def check(session: Session, kind: str, content: str) -> ImportReport:
    """Reads a file and compares each row with the records (no writes)."""
    return compare(session, read_csv(kind, content))


def compare(session: Session, report: ImportReport) -> ImportReport:
    """A copy of the report with each row classified as new, unchanged or changed (and how), and
    the rows that may not be applied moved to the errors with their reason (no writes)."""
    return _compared(session, report)[0]


def _compared(session: Session, report: ImportReport) -> tuple[ImportReport, dict[str, Any]]:
    """The compared report and the existing records it names, by key."""
    fresh = ImportReport(report.kind, errors=list(report.errors))
    if report.replaces_table:
        fresh.rows = [replace(row, status=NEW, changes=()) for row in report.rows]
        return fresh, {}
    find, differences = _KEYED[report.kind]
    existing = find(session, sorted({row.key for row in report.rows}))
    for row in report.rows:
        record = existing.get(row.key)
        if record is None:
            fresh.rows.append(replace(row, status=NEW, changes=()))
            continue
        try:
            changes = tuple(differences(row.values, record))
        except RowError as error:
            fresh.errors.append((row.line, str(error)))
            continue
        fresh.rows.append(replace(row, status=CHANGED if changes else UNCHANGED, changes=changes))
    fresh.errors.sort()
    return fresh, existing


def _by_key(session: Session, query: Any, column: Any, keys: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for some in chunks(keys, 500):
        for record in session.execute(query.where(column.in_(some))).scalars():
            found[getattr(record, column.key)] = record
    return found


def _same(old: Any, new: Any) -> bool:
    if old in (None, "") and new in (None, ""):
        return True
    if isinstance(new, Decimal) and old is not None:
        return Decimal(str(old)) == new  # SQLite hands numbers back as floats
    return bool(old == new)


def _diff(record: Any, values: dict[str, Any], names: tuple[str, ...]) -> list[FieldChange]:
    return [
        FieldChange(name, getattr(record, name), values[name])
        for name in names
        if not _same(getattr(record, name), values[name])
    ]


def _farmer_changes(values: dict[str, Any], farmer: Any) -> list[FieldChange]:
    changes = _diff(farmer, values, FARMER_FIELDS)
    organisation = farmer.organisation.name if farmer.organisation else None
    if values["organisation"] and values["organisation"] != organisation:  # empty: left as it is
        changes.append(FieldChange("organisation", organisation, values["organisation"]))
    for name, old in (
        ("phones", [p.phone for p in farmer.phones]),
        ("crops", [c.product for c in farmer.crops]),
    ):
        new = tuple(dict.fromkeys(values[name]))
        if set(old) != set(new):
            changes.append(FieldChange(name, tuple(sorted(old)), new))
    return changes


def _invoice_changes(values: dict[str, Any], invoice: Any) -> list[FieldChange]:
    owner = invoice.farmer.folio
    if values["farmer_folio"] != owner:
        raise RowError(
            f"farmer_folio: la factura {invoice.folio} ya es del productor {owner}; una importación "
            "no cambia el productor de una factura"
        )
    return _diff(invoice, values, INVOICE_FIELDS)


def _local(moment: datetime, zone: str) -> str:
    return as_utc(moment).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def _training_changes(values: dict[str, Any], training: Any) -> list[FieldChange]:
    taken = training.seats_taken or 0
    if values["capacity"] < taken:
        raise RowError(f"capacity: el cupo es menor que los inscritos ({taken})")
    changes = _diff(training, values, TRAINING_FIELDS)
    if as_utc(training.starts_at) != values["starts_at"]:
        old = _local(training.starts_at, training.timezone)
        changes.insert(0, FieldChange("starts_local", old, _local(values["starts_at"], values["timezone"])))
    return changes


def _farmers(session: Session, folios: list[str]) -> dict[str, Any]:
    relations = (selectinload(Farmer.phones), selectinload(Farmer.crops), selectinload(Farmer.organisation))
    return _by_key(session, select(Farmer).options(*relations), Farmer.folio, folios)


def _invoices(session: Session, folios: list[str]) -> dict[str, Any]:
    return _by_key(session, select(Invoice).options(selectinload(Invoice.farmer)), Invoice.folio, folios)


def _trainings(session: Session, codes: list[str]) -> dict[str, Any]:
    return _by_key(session, select(Training), Training.code, codes)


# Each keyed kind: how to find the records a file names, and how a row differs from its record.
_KEYED: dict[str, tuple[Callable[[Session, list[str]], dict[str, Any]], Callable[..., list[FieldChange]]]] = {
    "farmers": (_farmers, _farmer_changes),
    "invoices": (_invoices, _invoice_changes),
    "trainings": (_trainings, _training_changes),
}


def apply(session: Session, report: ImportReport, *, confirm_amounts: bool = False) -> ImportReport:
    """Applies a checked file in the caller's unit of work: compared again with the records as
    this unit of work sees them, then every new and changed row written, or, on any error, none.
    ``confirm_amounts`` confirms the amount changes ``report`` lists (as ``check`` gave it): an
    amount change it does not list refuses the whole file. Returns the report as applied."""
    if not report.ok:
        raise RowError("el archivo tiene errores; no se aplicó nada")
    fresh, existing = _compared(session, report)
    if not fresh.ok:
        raise RowError("; ".join(f"línea {line}: {reason}" for line, reason in fresh.errors))
    amounts = _amount_set(fresh)
    if amounts and not confirm_amounts:
        raise AmountsNotConfirmed(
            f"el archivo cambia el monto de {len(amounts)} factura(s) ({fresh.amount_summary()}) "
            "y un cambio de monto necesita confirmación"
        )
    if amounts and amounts != _amount_set(report):
        raise AmountsNotConfirmed(
            f"los cambios de monto ya no son los que se revisaron ({fresh.amount_summary()}); "
            "revise el archivo de nuevo"
        )
    _APPLIERS[report.kind](session, fresh, existing)
    session.flush()
    return fresh


def _amount_set(report: ImportReport) -> frozenset[tuple[str, str, str]]:
    return frozenset((row.key, c.old_text, c.new_text) for row, c in report.amount_changes)


def _to_write(report: ImportReport) -> list[Row]:
    return [row for row in report.rows if row.status in (NEW, CHANGED)]


def _sync(children: list[Any], make: Callable[..., Any], name: str, wanted: list[str]) -> None:
    """Keeps the children still wanted (a crop keeps its hectares), removes the others, adds the new."""
    wanted = list(dict.fromkeys(wanted))
    for child in [c for c in children if getattr(c, name) not in wanted]:
        children.remove(child)
    have = {getattr(c, name) for c in children}
    children.extend(make(**{name: value}) for value in wanted if value not in have)


def _apply_farmers(session: Session, report: ImportReport, existing: dict[str, Any]) -> None:
    orgs = {o.name: o for o in session.execute(select(Organisation)).scalars()}
    for row in _to_write(report):
        values = row.values
        farmer = existing.get(row.key)
        if farmer is None:
            farmer = Farmer(folio=row.key)
            session.add(farmer)
        for name in FARMER_FIELDS:
            setattr(farmer, name, values[name])
        if values["organisation"]:
            if values["organisation"] not in orgs:
                orgs[values["organisation"]] = Organisation(
                    name=values["organisation"], state=values["state"]
                )
            farmer.organisation = orgs[values["organisation"]]
        _sync(farmer.phones, FarmerPhone, "phone", values["phones"])
        _sync(farmer.crops, FarmerCrop, "product", values["crops"])
        session.flush()


def _apply_invoices(session: Session, report: ImportReport, existing: dict[str, Any]) -> None:
    folios = {row.values["farmer_folio"] for row in report.rows}
    farmers = {
        f.folio: f.id for f in session.execute(select(Farmer).where(Farmer.folio.in_(folios))).scalars()
    }
    unknown = sorted(folios - farmers.keys())
    if unknown:
        raise RowError(f"productores no registrados: {', '.join(unknown)}")
    for row in _to_write(report):
        invoice = existing.get(row.key)
        if invoice is None:  # only a new invoice is given its farmer: an existing one keeps it
            invoice = Invoice(folio=row.key, farmer_id=farmers[row.values["farmer_folio"]])
            session.add(invoice)
        for name in INVOICE_FIELDS:
            setattr(invoice, name, row.values[name])


def _apply_trainings(session: Session, report: ImportReport, existing: dict[str, Any]) -> None:
    for row in _to_write(report):
        training = existing.get(row.key)
        if training is None:
            training = Training(code=row.key, seats_taken=0)
            session.add(training)
        for name in (*TRAINING_FIELDS, "starts_at"):
            setattr(training, name, row.values[name])


def _apply_standards(session: Session, report: ImportReport, _existing: dict[str, Any]) -> None:
    session.execute(delete(QualityStandard))
    session.add_all(QualityStandard(**row) for row in report.valid_rows)


def _apply_calibres(session: Session, report: ImportReport, _existing: dict[str, Any]) -> None:
    session.execute(delete(AvocadoCalibre))
    session.add_all(AvocadoCalibre(**row) for row in report.valid_rows)


_APPLIERS: dict[str, Callable[[Session, ImportReport, dict[str, Any]], None]] = {
    "farmers": _apply_farmers,
    "invoices": _apply_invoices,
    "trainings": _apply_trainings,
    "quality_standards": _apply_standards,
    "avocado_calibres": _apply_calibres,
}


def load_reference_tables(session: Session, folder: Path) -> None:
    """Seeds the two reference tables from their sourced CSV files."""
    for kind in ("quality_standards", "avocado_calibres"):
        report = read_csv(kind, (folder / f"{kind}.csv").read_text(encoding="utf-8"))
        if not report.ok:
            raise RowError(f"{kind}.csv: {report.errors}")
        apply(session, report)
