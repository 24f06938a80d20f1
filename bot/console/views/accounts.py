"""Staff accounts and the access log (administration only)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from bot.console.auth import requires
from bot.console.forms import EditUserForm, NewUserForm, edit_user_form
from bot.console.services import accounts
from bot.console.sessions import request_session
from bot.console.views.common import console_settings, page_arg, refuse_if_stale

bp = Blueprint("accounts", __name__)


@bp.route("/cuentas", methods=["GET", "POST"], endpoint="accounts")
@requires("accounts")
def accounts_page() -> ResponseReturnValue:
    form = NewUserForm()
    session = request_session()
    if form.validate_on_submit():
        try:
            accounts.add_account(
                session, current_user, form.username.data, form.role.data, form.password.data
            )
            flash("Cuenta creada.", "info")
            return redirect(url_for("accounts.accounts"))
        except accounts.AccountError as error:
            flash(str(error), "error")
    elif request.method == "POST":
        refuse_if_stale(form)
    users = accounts.accounts_page(session)
    return render_template(
        "accounts.html",
        title="Cuentas del personal",
        form=form,
        users=users,
        edit_forms={u.id: edit_user_form(u) for u in users},
    )


@bp.route("/cuentas/<int:user_id>", methods=["POST"])
@requires("accounts")
def edit_account(user_id: int) -> ResponseReturnValue:
    session = request_session()
    user = accounts.find_account(session, user_id) or abort(404)
    form = EditUserForm(prefix=f"u{user_id}")
    if not form.validate_on_submit():
        abort(400)
    try:
        accounts.edit_account(
            session,
            current_user,
            user,
            role=form.role.data,
            active=bool(form.active.data),
            password=form.password.data or "",
        )
    except accounts.AccountError as error:
        flash(str(error), "error")
        return redirect(url_for("accounts.accounts"))
    flash("Cuenta actualizada.", "info")
    return redirect(url_for("accounts.accounts"))


@bp.route("/auditoria")
@requires("accounts")
def audit_log() -> ResponseReturnValue:
    page = accounts.audit_page(request_session(), page_arg())
    return render_template("audit.html", title="Registro de accesos", page=page, args={})


@bp.route("/auditoria/entradas")
@requires("accounts")
def login_log() -> ResponseReturnValue:
    page = accounts.logins_page(request_session(), page_arg())
    return render_template(
        "logins.html", title="Entradas a la consola", page=page, limits=console_settings(), args={}
    )
