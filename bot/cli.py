"""Command line for staff and set-up: `python -m bot.cli --help`."""

from __future__ import annotations

import argparse
import hashlib
import sys
from datetime import date
from pathlib import Path

from sqlalchemy.engine import make_url

from bot import retention
from bot.config import PROJECT_ROOT, settings
from bot.db import session_scope
from bot.records import csv_import, demo_data, seed
from bot.records.demo_data import SEED_DIR
from bot.records.knowledge import load_knowledge
from bot.records.migrate import create_database_if_missing, upgrade
from bot.records.privacy import code_from_folio
from bot.records.retention import periods
from bot.records.vocabulary import RETENTION_KINDS


def cmd_setup_db(args: argparse.Namespace) -> int:
    """Migrate, then seed the demo data set only if the database has no farmers yet. The program's
    explanations and FAQ are added whenever an entry is missing (one staff edited stays theirs)."""
    upgrade()
    with session_scope() as session:
        if seed.is_seeded(session):
            load_knowledge(session, SEED_DIR)
            print("Base de datos al día; ya tiene registros (no se volvió a sembrar).")
            return 0
        anchor = date.fromisoformat(args.anchor) if args.anchor else None
        counts = seed.seed_demo(session, anchor)
    print(f"Base de datos creada con datos de demostración: {counts}")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    """Production: create the program's and Rasa's PostgreSQL databases when missing, then migrate
    (safe when several processes or machines run it at once: bot/records/migrate.py)."""
    for url in (settings().database_url, *args.create):
        if create_database_if_missing(url):
            print(f"Base de datos creada: {make_url(url).database}")
    upgrade()
    print("Base de datos al día (alembic upgrade head).")
    return 0


def cmd_import_csv(args: argparse.Namespace) -> int:
    """Checks the file against the records, lists what it changes, then applies it whole (or not)."""
    content = Path(args.file).read_text(encoding="utf-8-sig")
    try:
        with session_scope() as session:
            report = csv_import.check(session, args.kind, content)
            for line, reason in report.errors:
                print(f"línea {line}: {reason}", file=sys.stderr)
            if not report.ok:
                print(f"No se aplicó nada: {len(report.errors)} fila(s) con error.", file=sys.stderr)
                return 1
            _print_changes(report, confirmed=args.confirm_amounts)
            if args.dry_run:
                print(f"{len(report.rows)} fila(s) válidas; no se aplicó nada (--dry-run).")
                return 0
            applied = csv_import.apply(session, report, confirm_amounts=args.confirm_amounts)
    except csv_import.AmountsNotConfirmed as error:
        print(
            f"No se aplicó nada: {error}. Revise los montos y, si son correctos, vuelva a correr el "
            "comando con --confirm-amounts.",
            file=sys.stderr,
        )
        return 2
    except csv_import.RowError as error:
        print(f"No se aplicó nada: {error}", file=sys.stderr)
        return 1
    print(f"Listo: {len(applied.rows)} fila(s) de {args.kind} aplicadas ({_counts(applied)}).")
    return 0


def _counts(report: csv_import.ImportReport) -> str:
    if report.replaces_table:
        return "la tabla se reemplaza completa"
    counts = report.counts()
    return (
        f"{counts[csv_import.NEW]} nueva(s), {counts[csv_import.CHANGED]} con cambios, "
        f"{counts[csv_import.UNCHANGED]} sin cambios"
    )


def _print_changes(report: csv_import.ImportReport, *, confirmed: bool) -> None:
    """What the file does to the records: counts, then each changed record (old → new)."""
    print(f"{_counts(report).capitalize()}.")
    for row in report.having(csv_import.CHANGED):
        changes = "; ".join(f"{c}{' (cambio de monto)' if c.needs_confirmation else ''}" for c in row.changes)
        print(f"  cambia {row.key} (línea {row.line}): {changes}")
    if report.amount_changes:
        how = "confirmados (--confirm-amounts)" if confirmed else "se aplican solo con --confirm-amounts"
        print(f"{len(report.amount_changes)} cambio(s) de monto: {how}.")


def cmd_demo_phones(_args: argparse.Namespace) -> int:
    for demo in demo_data.DEMO_PHONES:
        code = code_from_folio(demo.folio)
        print(f"{demo.phone}  {demo.name:<28} código {code}  {demo.situation}")
    print(f"{demo_data.UNKNOWN_DEMO_PHONE}  (número no registrado)")
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    """Deletes what is past its retention period (README, "Privacy: retention"); prints counts."""
    config = settings()
    tracker_url = retention.tracker_url()
    with session_scope() as session:
        if tracker_url is None:
            report = retention.purge(session, None, config, dry_run=args.dry_run)
        else:
            with session_scope(tracker_url) as tracker:
                report = retention.purge(session, tracker, config, dry_run=args.dry_run)
    verb = "se borrarían" if args.dry_run else "borrados o vaciados"
    for kind, days in periods(config).items():
        print(f"{RETENTION_KINDS[kind]} (más de {days} días): {report.total(kind)} registro(s) {verb}")
        for count in (c for c in report.counts if c.kind == kind):
            print(f"  {count.what}: {count.rows}")
    if tracker_url is None:
        print("Sin base de Rasa (TRACKER_DATABASE_URL): no se revisaron sus eventos.")
    if args.dry_run:
        print("No se borró nada (--dry-run).")
    return 0


TRAINING_INPUTS = ("config.yml", "domain.yml", "data/nlu", "data/rules", "data/stories", "bot/nlu")


def model_fingerprint() -> str:
    """A hash of everything a trained model depends on: same inputs, same model file."""
    digest = hashlib.sha256()
    for name in TRAINING_INPUTS:
        path = PROJECT_ROOT / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.suffix in (".yml", ".yaml", ".py", ".txt") and "__pycache__" not in file.parts:
                digest.update(str(file.relative_to(PROJECT_ROOT)).encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def cmd_model_name(_args: argparse.Namespace) -> int:
    print(f"model-{model_fingerprint()}")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m bot.cli", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    setup = commands.add_parser("setup-db", help="migrate and seed the demo records if empty")
    setup.add_argument("--anchor", help="demo 'today' as YYYY-MM-DD (default: today)")
    setup.set_defaults(run=cmd_setup_db)
    migrate = commands.add_parser("migrate", help="production: create the databases if missing, then migrate")
    migrate.add_argument(
        "--create",
        action="append",
        default=[],
        metavar="URL",
        help="another database to create (TRACKER_DATABASE_URL)",
    )
    migrate.set_defaults(run=cmd_migrate)
    load = commands.add_parser("import-csv", help="load records from a CSV file (all or nothing)")
    load.add_argument("kind", choices=sorted(csv_import.KINDS))
    load.add_argument("file")
    load.add_argument("--dry-run", action="store_true", help="check and list the changes; apply nothing")
    load.add_argument(
        "--confirm-amounts",
        action="store_true",
        help="apply the amount changes to existing invoices that --dry-run lists (refused without it)",
    )
    load.set_defaults(run=cmd_import_csv)
    model = commands.add_parser("model-name", help="the model file name for the current training data")
    model.set_defaults(run=cmd_model_name)
    purge = commands.add_parser("purge", help="delete what is past its retention period (counts only)")
    purge.add_argument("--dry-run", action="store_true", help="count what would be deleted; delete nothing")
    purge.set_defaults(run=cmd_purge)
    demo = commands.add_parser("demo-phones", help="list the demo phone numbers")
    demo.set_defaults(run=cmd_demo_phones)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
