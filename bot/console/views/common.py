"""What the views share: the console's settings, reading query arguments, refusing a stale form,
and bringing the conversation copy up to date before a page that shows conversations."""

from __future__ import annotations

from datetime import date

from flask import abort, current_app, flash, request
from flask_wtf import FlaskForm

from bot.console.config import ConsoleSettings
from bot.console.services import conversations
from bot.console.sessions import separate_session


def console_settings() -> ConsoleSettings:
    return current_app.config["CONSOLE_SETTINGS"]


def text_arg(name: str, limit: int = 100) -> str:
    return request.args.get(name, "").strip()[:limit]


def date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, "").strip())
    except ValueError:
        return None


def page_arg() -> int:
    try:
        return max(1, int(request.args.get("pagina", "1")))
    except ValueError:
        return 1


def args_without_page() -> dict[str, str]:
    """The query arguments, for the pager's links."""
    return {k: v for k, v in request.args.items() if k != "pagina"}


def refuse_if_stale(form: FlaskForm) -> None:
    """400 for a form without a valid CSRF token."""
    if "csrf_token" in form.errors:
        abort(400)


def refresh_conversations() -> None:
    if not conversations.refresh(separate_session, console_settings().tracker_database_url):
        flash(
            "No se pudieron leer las conversaciones nuevas del asistente; se muestran las ya copiadas.",
            "warning",
        )
