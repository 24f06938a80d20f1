"""CSV imports of invoices or trainings: the file is kept, previewed against the records (new rows,
changes with their old and new values, rows that stay the same, rejected rows) and applied whole or
not at all. A change of an invoice's amount is applied only when staff confirm the very changes the
preview listed; an invoice never changes farmer (bot/records/csv_import.py refuses the row)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.console.auth import StaffUser
from bot.console.queries import audit, uploads
from bot.console.schema import ConsoleUpload
from bot.console.services import SessionFactory
from bot.records import csv_import
from bot.records.csv_kinds import value_text
from bot.records.vocabulary import INVOICE_STATUSES, TRAINING_TOPICS, label
from bot.replies.spanish import money
from bot.timeutil import utcnow

# What staff read for each column a change names, by kind of file.
FIELD_LABELS: dict[str, dict[str, str]] = {
    "invoices": {
        "amount_mxn": "Monto",
        "status": "Estado",
        "status_reason": "Motivo del estado",
        "issued_on": "Emitida",
        "scheduled_on": "Pago programado",
        "paid_on": "Pagada",
        "bank_reference_last4": "Referencia bancaria (últimos 4)",
    },
    "trainings": {
        "starts_local": "Inicio (hora del lugar)",
        "topic": "Tema",
        "title": "Título",
        "description": "Descripción",
        "timezone": "Zona horaria",
        "venue": "Lugar",
        "municipality": "Municipio",
        "state": "Estado",
        "capacity": "Cupo",
        "latitude": "Latitud",
        "longitude": "Longitud",
    },
}
AMOUNTS_CHANGED = (
    "No se aplicó nada: el archivo cambia el monto de {count} factura(s) ya registradas. Revise los "
    "montos marcados en la vista previa y, si son correctos, marque la casilla para confirmarlos."
)
AMOUNTS_NOT_CONFIRMED = (
    "No se aplicó nada: los cambios de monto ya no son los que usted confirmó. Revise la vista previa "
    "de nuevo."
)


class UploadError(ValueError):
    """A file that cannot be read; the message is for staff, in Spanish."""


def store_upload(session: Session, actor: StaffUser, *, kind: str, filename: str, raw: bytes) -> int:
    """Keeps an uploaded file for its preview; returns its id."""
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadError(
            "El archivo no está en UTF-8. Guárdelo como «CSV UTF-8» y vuelva a subirlo."
        ) from None
    return uploads.add_upload(
        session, kind=kind, filename=(filename or "")[:200], content=content, username=actor.username
    ).id


def find_upload(session: Session, upload_id: int) -> ConsoleUpload | None:
    return uploads.upload_by_id(session, upload_id)


@dataclass(frozen=True)
class ChangeLine:
    """One value a row changes on an existing record, as staff read it."""

    key: str  # the invoice's folio or the training's code
    line: int
    field: str
    old: str
    new: str
    amount: bool  # an amount change: applied only when confirmed


@dataclass
class Preview:
    upload: ConsoleUpload
    report: csv_import.ImportReport
    changes: list[ChangeLine]
    amounts_key: str  # names the amount changes listed; the confirmation must name the same ones

    @property
    def counts(self) -> dict[str, int]:
        return self.report.counts()

    @property
    def new_rows(self) -> list[dict[str, Any]]:
        return [row.values for row in self.report.having(csv_import.NEW)]

    @property
    def amount_changes(self) -> int:
        return len(self.report.amount_changes)


def preview(session: Session, upload_id: int) -> Preview | None:
    """The upload compared with the records as they are now (reads only)."""
    upload = uploads.upload_by_id(session, upload_id)
    if upload is None:
        return None
    report = csv_import.check(session, upload.kind, upload.content)
    changes = [
        ChangeLine(
            row.key,
            row.line,
            FIELD_LABELS.get(upload.kind, {}).get(change.name, change.name),
            _shown(change.name, change.old),
            _shown(change.name, change.new),
            change.needs_confirmation,
        )
        for row in report.having(csv_import.CHANGED)
        for change in row.changes
    ]
    return Preview(upload, report, changes, amounts_key(report))


def _shown(name: str, value: Any) -> str:
    if value is None or value == "":
        return "vacío"
    if name == "amount_mxn":
        return money(value)
    if name == "status":
        return label(INVOICE_STATUSES, value)
    if name == "topic":
        return label(TRAINING_TOPICS, value)
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return value_text(name, value)


def amounts_key(report: csv_import.ImportReport) -> str:
    """A short fingerprint of the amount changes a report lists ("" when there are none)."""
    if not report.amount_changes:
        return ""
    listed = sorted(f"{row.key}|{c.old_text}|{c.new_text}" for row, c in report.amount_changes)
    return hashlib.sha256("\n".join(listed).encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Applied:
    done: bool
    message: str  # for staff, in Spanish
    category: str  # how the message is shown: info, warning, error


def apply_upload(
    session: Session,
    separate_session: SessionFactory,
    actor: StaffUser,
    upload: ConsoleUpload,
    *,
    confirm_amounts: bool = False,
    confirmed_key: str = "",
) -> Applied:
    """Applies a file with no rejected rows, all of it or nothing, in a unit of work of its own
    (a row the database refuses rolls back only the import); audited. Amount changes need
    ``confirm_amounts`` and, as ``confirmed_key``, the ``amounts_key`` of the preview that listed them."""
    if upload.applied_at is not None:
        return Applied(False, "Este archivo ya se aplicó.", "warning")
    with separate_session() as records:
        report = csv_import.check(records, upload.kind, upload.content)
        if not report.ok:
            return Applied(False, "El archivo tiene filas con error: no se aplicó nada.", "error")
        if report.amount_changes and not confirm_amounts:
            return Applied(False, AMOUNTS_CHANGED.format(count=len(report.amount_changes)), "error")
        if report.amount_changes and confirmed_key != amounts_key(report):
            return Applied(False, AMOUNTS_NOT_CONFIRMED, "error")
        try:
            applied = csv_import.apply(records, report, confirm_amounts=confirm_amounts)
            records.commit()
        except (csv_import.RowError, SQLAlchemyError) as error:
            records.rollback()
            reason = str(error) if isinstance(error, csv_import.RowError) else "la base de datos lo rechazó"
            return Applied(False, f"No se aplicó nada: {reason}.", "error")
    count, counts = len(applied.rows), applied.counts()
    upload.applied_at, upload.applied_rows = utcnow(), count
    detail = (
        f"{upload.kind}: {count} filas ({upload.filename}): {counts[csv_import.NEW]} nuevas, "
        f"{counts[csv_import.CHANGED]} con cambios, {counts[csv_import.UNCHANGED]} sin cambios"
    )
    if applied.amount_changes:
        detail += f"; montos confirmados: {applied.amount_summary()}"
    audit.record(session, actor, "import_csv", detail=detail)
    return Applied(
        True,
        f"Listo: se aplicaron {count} filas ({counts[csv_import.NEW]} nuevas, "
        f"{counts[csv_import.CHANGED]} con cambios, {counts[csv_import.UNCHANGED]} sin cambios).",
        "info",
    )
