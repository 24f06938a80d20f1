"""What each CSV kind holds (its columns, the parser of each value, the checks of a whole row) and
what reading a file gives (ImportReport: its rows and, once compared with the records, what each
changes). Nothing here touches the database: csv_import.py reads, compares and applies files.

Farmers, invoices and trainings are keyed (by folio or code: a row names one record, added or
updated); the reference tables quality_standards and avocado_calibres are replaced whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.phones import InvalidPhone, normalize_phone
from bot.records.schema import HOLD_REASONS, INVOICE_STATUSES, MEDIA, TRAINING_TOPICS

NEW, CHANGED, UNCHANGED = "new", "changed", "unchanged"  # what applying a row does to its record
AMOUNT = "amount_mxn"  # a changed amount is applied only when the caller confirms it


class RowError(ValueError):
    """A row (or a file) that cannot be applied; the message is for staff, in Spanish."""


# --- value parsers: each raises RowError with a reason staff can act on ------------------------


def text(value: str) -> str:
    value = value.strip()
    if not value:
        raise RowError("vacío")
    return value


def optional_text(value: str) -> str | None:
    return value.strip() or None


def optional_one_of(choices: Iterable[str]) -> Callable[[str], str | None]:
    """A code of a vocabulary, or nothing."""
    required = one_of(choices)

    def parse(value: str) -> str | None:
        return required(value) if value.strip() else None

    return parse


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
    key: str | None = None  # the column naming the record a row adds or updates; None: replaced whole


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
    if row["status"] not in ("on_hold", "rejected"):
        row["status_reason_code"] = None  # a reason code belongs to a held or rejected invoice
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
        },
        key="folio",
    ),
    "invoices": Kind(
        {
            "folio": text,
            "farmer_folio": text,
            "amount_mxn": money,
            "status": one_of(INVOICE_STATUSES),
            "status_reason": optional_text,
            "status_reason_code": optional_one_of(HOLD_REASONS),
            "issued_on": iso_date,
            "scheduled_on": optional_date,
            "paid_on": optional_date,
            "bank_reference_last4": optional_text,
        },
        _check_invoice,
        key="folio",
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
        key="code",
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


# --- what reading a file gives ------------------------------------------------------------------


def value_text(name: str, value: Any) -> str:
    """A stored or imported value as staff read it in a list of changes."""
    if value is None or value == "" or value == ():
        return "vacío"
    if isinstance(value, bool):
        return "sí" if value else "no"
    if name == AMOUNT:
        return f"${Decimal(str(value)):,.2f}"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return "; ".join(value)
    return str(value)


@dataclass(frozen=True)
class FieldChange:
    """One value an import changes on an existing record (a column of the file)."""

    name: str
    old: Any
    new: Any

    @property
    def needs_confirmation(self) -> bool:
        return self.name == AMOUNT

    @property
    def old_text(self) -> str:
        return value_text(self.name, self.old)

    @property
    def new_text(self) -> str:
        return value_text(self.name, self.new)

    def __str__(self) -> str:
        return f"{self.name}: {self.old_text} → {self.new_text}"


@dataclass(frozen=True)
class Row:
    """A valid line of a file and, once compared with the records, what applying it does."""

    line: int
    values: dict[str, Any]
    key: str = ""  # the folio or code it names; "" for a reference table's row
    status: str = NEW
    changes: tuple[FieldChange, ...] = ()


@dataclass
class ImportReport:
    """A file read: its valid rows (new until compared with the records) and its refused lines."""

    kind: str
    rows: list[Row] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason in Spanish)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def valid_rows(self) -> list[dict[str, Any]]:
        return [row.values for row in self.rows]

    @property
    def replaces_table(self) -> bool:
        return KINDS[self.kind].key is None

    def having(self, status: str) -> list[Row]:
        return [row for row in self.rows if row.status == status]

    def counts(self) -> dict[str, int]:
        return {status: len(self.having(status)) for status in (NEW, CHANGED, UNCHANGED)}

    @property
    def amount_changes(self) -> list[tuple[Row, FieldChange]]:
        return [(row, c) for row in self.rows for c in row.changes if c.needs_confirmation]

    def amount_summary(self) -> str:
        """'F-300102: $36,270.00 → $100.00, …' (the first five)."""
        shown = [f"{row.key}: {c.old_text} → {c.new_text}" for row, c in self.amount_changes[:5]]
        more = len(self.amount_changes) - len(shown)
        return ", ".join(shown) + (f" y {more} más" if more else "")
