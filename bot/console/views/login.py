"""Signing in and out."""

from __future__ import annotations

import math
from urllib.parse import unquote, urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user

from bot.console.forms import LoginForm, LogoutForm
from bot.console.local_time import local
from bot.console.services.login import sign_in
from bot.console.sessions import separate_session
from bot.console.views.common import console_settings
from bot.timeutil import utcnow

bp = Blueprint("login", __name__)

REFUSED = "Usuario o contraseña incorrectos."


def _local_path(target: str) -> bool:
    """A path of this site: '/…' but not '//…' (another host), with no backslash (browsers read
    it as '/'), no control character or space (browsers drop some of them), no scheme or host."""
    if not target.startswith("/") or target.startswith("//"):
        return False
    if any(ch == "\\" or ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: only a path of this site, as given and, for its path part,
    once or twice decoded ('/%2F%2Fevil.example', '/%5Cevil.example'); anything else goes to
    the conversations."""
    if target and _local_path(target):
        decoded = [unquote(target), unquote(unquote(target))]
        if all(_local_path(form.split("?", 1)[0].split("#", 1)[0]) for form in decoded):
            return target
    return url_for("conversations.conversations")


@bp.route("/entrar", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    if current_user.is_authenticated:
        return redirect(url_for("conversations.conversations"))
    if form.validate_on_submit():
        outcome = sign_in(
            separate_session, console_settings(), form.username.data, form.password.data, request.remote_addr
        )
        if outcome.user is not None:
            login_user(outcome.user)
            return redirect(_safe_next(request.args.get("next")))
        if outcome.retry_at is not None:
            at = local(outcome.retry_at, console_settings().timezone)
            flash(
                f"{REFUSED} Hubo demasiados intentos: vuelva a intentarlo después de las {at:%H:%M}.", "error"
            )
            wait = max(1, math.ceil((outcome.retry_at - utcnow()).total_seconds()))
            page = render_template("login.html", form=form, title="Entrar")
            return page, 429, {"Retry-After": str(wait)}
        flash(REFUSED, "error")
    return render_template("login.html", form=form, title="Entrar")


@bp.route("/salir", methods=["POST"])
def logout() -> ResponseReturnValue:
    if LogoutForm().validate_on_submit():
        logout_user()
        flash("Sesión cerrada.", "info")
    return redirect(url_for("login.login"))
