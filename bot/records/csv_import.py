"""Loading program records from CSV files: every row is checked first, then the whole file is
applied in one transaction, or nothing is (a bad row is reported with its line and reason).

Kinds: farmers, invoices, trainings (added or updated by their folio/code), and the reference
tables quality_standards and avocado_calibres (replaced whole, with the source of each row).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.phones import InvalidPhone, normalize_phone
from bot.records.schema import (
    INVOICE_STATUSES,
    MEDIA,
    TRAINING_TOPICS,
    AvocadoCalibre,
    Farmer,
    FarmerCrop,
    FarmerPhone,
    Invoice,
    Organisation,
    QualityStandard,
    Training,
)


class RowError(ValueError):
    pass


@dataclass
class ImportReport:
    kind: str
    valid_rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason in Spanish)

    @property
    def ok(self) -> bool:
        return not self.errors


# --- value parsers: each raises RowError with a reason staff can act on ------------------------


def text(value: str) -> str:
    value = value.strip()
    if not value:
        raise RowError("vacío")
    return value


def optional_text(value: str) -> str | None:
    return value.strip() or None


def money(value: str) -> Decimal:
    try:
        amount = Decimal(value.strip().replace(",", "").replace("$", ""))
    except InvalidOperation:
        raise RowError(f"no es un monto: {value!r}") from None
    if amount < 0:
        raise RowError("el monto no puede ser negativo")
    return amount.quantize(Decimal("0.01"))


def integer(value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise RowError(f"no es un número entero: {value!r}") from None


def optional_integer(value: str) -> int | None:
    return integer(value) if value.strip() else None


def optional_decimal(value: str) -> Decimal | None:
    if not value.strip():
        return None
    try:
        return Decimal(value.strip())
    except InvalidOperation:
        raise RowError(f"no es un número: {value!r}") from None


def iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise RowError(f"fecha inválida (use AAAA-MM-DD): {value!r}") from None


def optional_date(value: str) -> date | None:
    return iso_date(value) if value.strip() else None


def boolean(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "si", "sí", "yes"):
        return True
    if lowered in ("false", "0", "no", ""):
        return False
    raise RowError(f"use sí o no: {value!r}")


def one_of(choices: Iterable[str]) -> Callable[[str], str]:
    allowed = tuple(choices)

    def parse(value: str) -> str:
        value = value.strip()
        if value not in allowed:
            raise RowError(f"{value!r} no es válido; use uno de: {', '.join(allowed)}")
        return value

    return parse


def phone_list(value: str) -> list[str]:
    phones = [p for p in value.replace(",", ";").split(";") if p.strip()]
    if not phones:
        raise RowError("sin teléfono")
    try:
        return [normalize_phone(p) for p in phones]
    except InvalidPhone:
        raise RowError(f"teléfono inválido: {value!r}") from None


def word_list(value: str) -> list[str]:
    return [w.strip().lower() for w in value.split(";") if w.strip()]


# --- kinds --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    columns: dict[str, Callable[[str], Any]]
    check: Callable[[dict[str, Any]], None] = lambda row: None


def _check_training(row: dict[str, Any]) -> None:
    try:
        zone = ZoneInfo(row["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise RowError(f"zona horaria desconocida: {row['timezone']!r}") from None
    try:
        local = datetime.strptime(row["starts_local"], "%Y-%m-%d %H:%M")
    except ValueError:
        raise RowError("starts_local debe ser AAAA-MM-DD HH:MM (hora del lugar)") from None
    row["starts_at"] = local.replace(tzinfo=zone).astimezone(ZoneInfo("UTC"))
    if row["capacity"] <= 0:
        raise RowError("el cupo debe ser mayor que cero")


def _check_invoice(row: dict[str, Any]) -> None:
    if row["status"] == "paid" and not row["paid_on"]:
        raise RowError("una factura pagada necesita paid_on")
    if row["status"] in ("on_hold", "rejected") and not row["status_reason"]:
        raise RowError("una factura retenida o rechazada necesita status_reason")
    last4 = row.get("bank_reference_last4")
    if last4 and (len(last4) != 4 or not last4.isdigit()):
        raise RowError("bank_reference_last4 lleva solo los últimos 4 dígitos")


def _check_reference(row: dict[str, Any]) -> None:
    if row["confidence"] not in ("VERIFIED", "SECONDARY"):
        raise RowError("solo se cargan datos con fuente VERIFIED o SECONDARY")


def _check_calibre(row: dict[str, Any]) -> None:
    _check_reference(row)
    low, high = row["weight_min_g"], row["weight_max_g"]
    if (low is None) != (high is None) or (low is not None and low > high):
        raise RowError("weight_min_g y weight_max_g van juntos y min <= max")


KINDS: dict[str, Kind] = {
    "farmers": Kind(
        {
            "folio": text,
            "name": text,
            "phones": phone_list,
            "state": text,
            "municipality": text,
            "organisation": optional_text,
            "crops": word_list,
            "preferred_medium": one_of(MEDIA),
        }
    ),
    "invoices": Kind(
        {
            "folio": text,
            "farmer_folio": text,
            "amount_mxn": money,
            "status": one_of(INVOICE_STATUSES),
            "status_reason": optional_text,
            "issued_on": iso_date,
            "scheduled_on": optional_date,
            "paid_on": optional_date,
            "bank_reference_last4": optional_text,
        },
        _check_invoice,
    ),
    "trainings": Kind(
        {
            "code": text,
            "topic": one_of(TRAINING_TOPICS),
            "title": text,
            "description": text,
            "starts_local": text,
            "timezone": text,
            "venue": text,
            "municipality": text,
            "state": text,
            "capacity": integer,
            "latitude": optional_decimal,
            "longitude": optional_decimal,
        },
        _check_training,
    ),
    "quality_standards": Kind(
        {
            "product": text,
            "grade": text,
            "summary": text,
            "details": text,
            "source": text,
            "confidence": text,
        },
        _check_reference,
    ),
    "avocado_calibres": Kind(
        {
            "calibre": integer,
            "weight_min_g": optional_integer,
            "weight_max_g": optional_integer,
            "label": text,
            "purchased": boolean,
            "source": text,
            "confidence": text,
        },
        _check_calibre,
    ),
}


def read_csv(kind: str, content: str) -> ImportReport:
    """Checks every row; nothing touches the database here."""
    spec = KINDS[kind]
    report = ImportReport(kind)
    reader = csv.DictReader(io.StringIO(content.lstrip("\ufeff")))
    missing = [c for c in spec.columns if c not in (reader.fieldnames or [])]
    required = [c for c in missing if not c.startswith(("latitude", "longitude", "bank_reference"))]
    if required:
        report.errors.append((1, f"faltan columnas: {', '.join(required)}"))
        return report
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
            report.valid_rows.append(parsed)
        except RowError as error:
            report.errors.append((line, str(error)))
    return report


def apply(session: Session, report: ImportReport) -> int:
    """Applies a checked file in the caller's unit of work (all rows or, on any error, none)."""
    if not report.ok:
        raise RowError("el archivo tiene errores; no se aplicó nada")
    appliers = {
        "farmers": _apply_farmers,
        "invoices": _apply_invoices,
        "trainings": _apply_trainings,
        "quality_standards": _apply_standards,
        "avocado_calibres": _apply_calibres,
    }
    appliers[report.kind](session, report)
    return len(report.valid_rows)


def _apply_farmers(session: Session, report: ImportReport) -> None:
    orgs = {o.name: o for o in session.execute(select(Organisation)).scalars()}
    for row in report.valid_rows:
        farmer = session.execute(select(Farmer).where(Farmer.folio == row["folio"])).scalars().first()
        if farmer is None:
            farmer = Farmer(folio=row["folio"])
            session.add(farmer)
        farmer.name, farmer.state, farmer.municipality = row["name"], row["state"], row["municipality"]
        farmer.preferred_medium = row["preferred_medium"]
        if row["organisation"]:
            if row["organisation"] not in orgs:
                orgs[row["organisation"]] = Organisation(name=row["organisation"], state=row["state"])
            farmer.organisation = orgs[row["organisation"]]
        farmer.phones = [FarmerPhone(phone=p) for p in dict.fromkeys(row["phones"])]
        farmer.crops = [FarmerCrop(product=c) for c in dict.fromkeys(row["crops"])]
        session.flush()


def _apply_invoices(session: Session, report: ImportReport) -> None:
    folios = {r["farmer_folio"] for r in report.valid_rows}
    farmers = {
        f.folio: f.id for f in session.execute(select(Farmer).where(Farmer.folio.in_(folios))).scalars()
    }
    unknown = sorted(folios - farmers.keys())
    if unknown:
        raise RowError(f"productores no registrados: {', '.join(unknown)}")
    for row in report.valid_rows:
        invoice = session.execute(select(Invoice).where(Invoice.folio == row["folio"])).scalars().first()
        if invoice is None:
            invoice = Invoice(folio=row["folio"])
            session.add(invoice)
        invoice.farmer_id = farmers[row["farmer_folio"]]
        for name in (
            "amount_mxn",
            "status",
            "status_reason",
            "issued_on",
            "scheduled_on",
            "paid_on",
            "bank_reference_last4",
        ):
            setattr(invoice, name, row.get(name))


def _apply_trainings(session: Session, report: ImportReport) -> None:
    for row in report.valid_rows:
        training = session.execute(select(Training).where(Training.code == row["code"])).scalars().first()
        if training is None:
            training = Training(code=row["code"], seats_taken=0)
            session.add(training)
        if row["capacity"] < (training.seats_taken or 0):
            raise RowError(f"{row['code']}: el cupo es menor que los inscritos ({training.seats_taken})")
        for name in (
            "topic",
            "title",
            "description",
            "starts_at",
            "timezone",
            "venue",
            "municipality",
            "state",
            "capacity",
            "latitude",
            "longitude",
        ):
            setattr(training, name, row[name])


def _apply_standards(session: Session, report: ImportReport) -> None:
    session.execute(delete(QualityStandard))
    session.add_all(QualityStandard(**row) for row in report.valid_rows)


def _apply_calibres(session: Session, report: ImportReport) -> None:
    session.execute(delete(AvocadoCalibre))
    session.add_all(AvocadoCalibre(**row) for row in report.valid_rows)


def load_reference_tables(session: Session, folder: Path) -> None:
    """Seeds the two reference tables from their sourced CSV files."""
    for kind in ("quality_standards", "avocado_calibres"):
        report = read_csv(kind, (folder / f"{kind}.csv").read_text(encoding="utf-8"))
        if not report.ok:
            raise RowError(f"{kind}.csv: {report.errors}")
        apply(session, report)
