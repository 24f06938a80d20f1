"""Staff console command line.

python -m bot.console                     serve on 127.0.0.1:8000 (the default command)
python -m bot.console serve --host 127.0.0.1 --port 8000
python -m bot.console create-user --username ana --role officer
    (asks for the password twice; scripts may pass it in CONSOLE_PASSWORD)
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys

from werkzeug.serving import run_simple

from bot.console.app import create_app
from bot.console.services.accounts import MIN_PASSWORD, AccountError, create_account
from bot.console.vocabulary import ROLES
from bot.db import session_scope
from bot.records.migrate import upgrade


def cmd_serve(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # werkzeug's access log writes whole paths (with phone numbers): the app logs the route instead.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if args.migrate:
        upgrade()
    app = create_app()
    print(f"Consola del personal en http://{args.host}:{args.port}  (Ctrl-C para detener)", flush=True)
    run_simple(args.host, args.port, app, threaded=True, use_reloader=False, use_debugger=False)
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    password = os.environ.get("CONSOLE_PASSWORD", "")
    if not password:
        if not sys.stdin.isatty():
            print("Sin terminal: pase la contraseña en la variable CONSOLE_PASSWORD.", file=sys.stderr)
            return 2
        password = getpass.getpass(f"Contraseña (mínimo {MIN_PASSWORD} caracteres, no una de las comunes): ")
        if password != getpass.getpass("Repita la contraseña: "):
            print("Las contraseñas no coinciden.", file=sys.stderr)
            return 1
    if args.migrate:
        upgrade()
    try:
        with session_scope() as session:
            create_account(session, args.username, args.role, password)
    except AccountError as error:
        print(str(error), file=sys.stderr)
        return 1
    print(f"Cuenta {args.username.strip().lower()} creada con rol {args.role}.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.console", description="Consola del personal")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="servir la consola (por omisión en 127.0.0.1:8000)")
    serve.add_argument("--host", default=os.environ.get("CONSOLE_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("CONSOLE_PORT", "8000")))
    serve.add_argument(
        "--no-migrate",
        dest="migrate",
        action="store_false",
        help="no llevar la base de datos a la última versión al arrancar",
    )
    user = sub.add_parser("create-user", help="crear una cuenta del personal")
    user.add_argument("--username", required=True)
    user.add_argument("--role", required=True, choices=tuple(ROLES))
    user.add_argument("--no-migrate", dest="migrate", action="store_false")
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["serve", *argv]
    args = parser.parse_args(argv)
    return cmd_serve(args) if args.command == "serve" else cmd_create_user(args)


if __name__ == "__main__":
    sys.exit(main())
