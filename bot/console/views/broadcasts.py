"""Difusión (issue 14): the broadcasts, composing one for an audience with its preview (how many
it reaches, the exact text per medium), and an admin's approval or rejection of another's."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from bot.console.auth import requires
from bot.console.forms import ApproveBroadcastForm, BroadcastForm, RejectBroadcastForm, broadcast_form
from bot.console.services import broadcasts
from bot.console.sessions import request_session
from bot.console.views.common import refuse_if_stale

bp = Blueprint("broadcasts", __name__)

SENT_FOR_APPROVAL = "Enviada a aprobación. Otra persona de administración debe aprobarla antes de que salga."
BAD_CHOICE = "Una opción del público ya no está en la lista. Elíjala de nuevo y vuelva a intentar."
TOO_LONG = "El mensaje es demasiado largo: use hasta 1600 caracteres."
LONG_NOTE = "La nota es muy larga: use hasta 1000 caracteres."


@bp.route("/difusion", endpoint="broadcasts")
@requires("read")
def broadcast_list() -> ResponseReturnValue:
    marks = broadcasts.broadcasts_list(request_session(), current_user)
    return render_template("broadcasts.html", title="Difusión", marks=marks)


def render_composer(
    form: BroadcastForm, shown: broadcasts.Preview | None = None, status: int = 200
) -> ResponseReturnValue:
    return render_template("broadcast_new.html", title="Nueva difusión", form=form, shown=shown), status


@bp.route("/difusion/nueva", methods=["GET", "POST"])
@requires("broadcast")
def compose() -> ResponseReturnValue:
    session = request_session()
    form = broadcast_form(broadcasts.choices(session))
    if request.method == "GET":
        return render_composer(form)
    if not form.validate_on_submit():
        refuse_if_stale(form)
        flash(TOO_LONG if "text" in form.errors else BAD_CHOICE, "warning")
        return render_composer(form, status=422)
    text, audience = form.text.data or "", form.audience()
    if not form.send.data:
        return render_composer(form, broadcasts.preview(session, text, audience))
    composed = broadcasts.compose(session, current_user, text, audience)
    if isinstance(composed, broadcasts.Preview):
        return render_composer(form, composed, status=422)
    flash(SENT_FOR_APPROVAL, "info")
    return redirect(url_for("broadcasts.broadcast", broadcast_id=composed.id))


@bp.route("/difusion/<int:broadcast_id>")
@requires("read")
def broadcast(broadcast_id: int) -> ResponseReturnValue:
    page = broadcasts.broadcast_page(request_session(), current_user, broadcast_id) or abort(404)
    return render_template(
        "broadcast.html",
        title=f"Difusión #{broadcast_id}",
        page=page,
        approve_form=ApproveBroadcastForm(formdata=None),
        reject_form=RejectBroadcastForm(formdata=None),
    )


@bp.route("/difusion/<int:broadcast_id>/aprobar", methods=["POST"])
@requires("approve_broadcasts")
def approve(broadcast_id: int) -> ResponseReturnValue:
    form = ApproveBroadcastForm()
    if not form.validate_on_submit():
        abort(400)
    return decided(broadcast_id, broadcasts.decide(request_session(), current_user, broadcast_id, True))


@bp.route("/difusion/<int:broadcast_id>/rechazar", methods=["POST"])
@requires("approve_broadcasts")
def reject(broadcast_id: int) -> ResponseReturnValue:
    form = RejectBroadcastForm()
    if not form.validate_on_submit():
        refuse_if_stale(form)
        flash(LONG_NOTE, "warning")
        return redirect(url_for("broadcasts.broadcast", broadcast_id=broadcast_id))
    decision = broadcasts.decide(request_session(), current_user, broadcast_id, False, form.note.data or "")
    return decided(broadcast_id, decision)


def decided(broadcast_id: int, decision: broadcasts.Decision | None) -> ResponseReturnValue:
    if decision is None:
        abort(404)
    flash(decision.message, "warning" if decision.refused else "info")
    return redirect(url_for("broadcasts.broadcast", broadcast_id=broadcast_id))
