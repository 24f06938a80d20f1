"""Locks: the phones locked out of payment answers after wrong check codes, with a button to lift
each lock, and the numbers held back for sending too many messages; resetting a farmer's PIN
(from the farmer's page)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from bot.console.auth import requires
from bot.console.forms import ResetPinForm, UnlockForm
from bot.console.services import checks
from bot.console.sessions import request_session

bp = Blueprint("checks", __name__)


@bp.route("/bloqueos", endpoint="locks")
def locks_page() -> ResponseReturnValue:
    page = checks.locks_page(request_session(), current_user)
    return render_template("locks.html", title="Bloqueos", page=page)


@bp.route("/bloqueos/desbloquear", methods=["POST"])
@requires("unlock")
def unlock() -> ResponseReturnValue:
    form = UnlockForm()
    if not form.validate_on_submit():
        abort(400)
    if checks.lift_lock(request_session(), current_user, form.phone.data, form.farmer_id.data):
        flash(f"Número {form.phone.data} desbloqueado: ya puede volver a escribir su código.", "info")
    else:
        flash("Ese número ya no estaba bloqueado.", "warning")
    return redirect(url_for("checks.locks"))


@bp.route("/productores/<int:farmer_id>/nip", methods=["POST"])
@requires("unlock")
def reset_pin(farmer_id: int) -> ResponseReturnValue:
    if not ResetPinForm().validate_on_submit():
        abort(400)
    if checks.reset_farmer_pin(request_session(), current_user, farmer_id):
        flash("NIP restablecido: el productor vuelve a usar los últimos 4 números de su folio.", "info")
    else:
        flash("Ese productor no tenía NIP.", "warning")
    return redirect(url_for("records.farmer", farmer_id=farmer_id))
