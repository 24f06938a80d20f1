"""Signing in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user

from bot.console.forms import LoginForm, LogoutForm
from bot.console.services.login import sign_in
from bot.console.sessions import request_session

bp = Blueprint("login", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path of this site: never an address elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("conversations.conversations")


@bp.route("/entrar", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    if current_user.is_authenticated:
        return redirect(url_for("conversations.conversations"))
    if form.validate_on_submit():
        user = sign_in(request_session(), form.username.data, form.password.data)
        if user is not None:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        flash("Usuario o contraseña incorrectos.", "error")
    return render_template("login.html", form=form, title="Entrar")


@bp.route("/salir", methods=["POST"])
def logout() -> ResponseReturnValue:
    if LogoutForm().validate_on_submit():
        logout_user()
        flash("Sesión cerrada.", "info")
    return redirect(url_for("login.login"))
