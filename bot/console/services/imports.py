"""CSV imports of invoices or trainings: the file is kept, previewed with its valid and rejected
rows, and applied whole or not at all."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.console.auth import StaffUser
from bot.console.queries import audit, uploads
from bot.console.schema import ConsoleUpload
from bot.console.services import SessionFactory
from bot.records import csv_import
from bot.timeutil import utcnow


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


@dataclass
class Preview:
    upload: ConsoleUpload
    report: csv_import.ImportReport


def preview(session: Session, upload_id: int) -> Preview | None:
    upload = uploads.upload_by_id(session, upload_id)
    if upload is None:
        return None
    return Preview(upload, csv_import.read_csv(upload.kind, upload.content))


@dataclass(frozen=True)
class Applied:
    done: bool
    message: str  # for staff, in Spanish
    category: str  # how the message is shown: info, warning, error


def apply_upload(
    session: Session, separate_session: SessionFactory, actor: StaffUser, upload: ConsoleUpload
) -> Applied:
    """Applies a file with no rejected rows, all of it or nothing, in a unit of work of its own
    (a row the database refuses rolls back only the import); audited."""
    if upload.applied_at is not None:
        return Applied(False, "Este archivo ya se aplicó.", "warning")
    report = csv_import.read_csv(upload.kind, upload.content)
    if not report.ok:
        return Applied(False, "El archivo tiene filas con error: no se aplicó nada.", "error")
    with separate_session() as records:
        try:
            count = csv_import.apply(records, report)
            records.commit()
        except (csv_import.RowError, SQLAlchemyError) as error:
            records.rollback()
            reason = str(error) if isinstance(error, csv_import.RowError) else "la base de datos lo rechazó"
            return Applied(False, f"No se aplicó nada: {reason}.", "error")
    upload.applied_at, upload.applied_rows = utcnow(), count
    audit.record(session, actor, "import_csv", detail=f"{upload.kind}: {count} filas ({upload.filename})")
    return Applied(True, f"Listo: se aplicaron {count} filas.", "info")
