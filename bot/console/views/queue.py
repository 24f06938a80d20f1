"""The handover queue: requests for a person, their assignment and status."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from bot.console.auth import requires
from bot.console.forms import handover_form
from bot.console.services import queue as handover
from bot.console.sessions import request_session
from bot.console.views.common import refuse_if_stale

bp = Blueprint("queue", __name__)


@bp.route("/atencion")
def queue() -> ResponseReturnValue:
    page = handover.queue_page(
        request_session(),
        current_user,
        status=request.args.get("estado", handover.PENDING),
        mine=bool(request.args.get("mias")),
    )
    forms = {r.id: handover_form(r.id, page.staff, r) for r in page.rows}
    return render_template(
        "queue.html",
        title="Atención por personas",
        rows=page.rows,
        farmers=page.farmers,
        forms=forms,
        status=page.status,
        mine=page.mine,
        first_reply=page.first_reply,
    )


@bp.route("/atencion/<int:request_id>", methods=["POST"])
@requires("edit")
def update_request(request_id: int) -> ResponseReturnValue:
    session = request_session()
    row = handover.find_request(session, request_id) or abort(404)
    form = handover_form(request_id, handover.staff_usernames(session))
    if not form.validate_on_submit():
        refuse_if_stale(form)
        flash("Elija un responsable y un estado válidos.", "error")
        return redirect(url_for("queue.queue"))
    handover.update_request(row, assigned_to=form.assigned_to.data, status=form.status.data)
    flash("Solicitud actualizada.", "info")
    if request.form.get("back") == "transcript":
        return redirect(url_for("conversations.transcript", sender_id=row.phone) + "#atencion")
    return redirect(url_for("queue.queue"))
