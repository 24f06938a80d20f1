"""Review and corrections: marking a conversation reviewed, correcting what the assistant
understood of a message, and the corrections as a training file."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from bot.console.auth import requires
from bot.console.domain import assistant_names
from bot.console.forms import ReviewForm, correction_form
from bot.console.services import review
from bot.console.services.nlu_training_data import CorrectionError
from bot.console.sessions import request_session
from bot.console.views.common import refuse_if_stale
from bot.console.views.conversations import render_transcript

bp = Blueprint("review", __name__)


def _back_to(sender_id: str, anchor: str) -> ResponseReturnValue:
    return redirect(url_for("conversations.transcript", sender_id=sender_id) + anchor)


@bp.route("/conversaciones/<sender_id>/revision", methods=["POST"], endpoint="review")
@requires("review")
def save_review(sender_id: str) -> ResponseReturnValue:
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    review.save_review(
        request_session(),
        current_user,
        sender_id,
        reviewed=bool(form.reviewed.data),
        tags=form.tags.data or "",
        note=form.note.data or "",
    )
    flash("Revisión guardada.", "info")
    return _back_to(sender_id, "#revision")


@bp.route("/conversaciones/<sender_id>/correccion/<int:event_id>", methods=["POST"])
@requires("review")
def correct(sender_id: str, event_id: int) -> ResponseReturnValue:
    form = correction_form(event_id, assistant_names().intents, submitted=True)
    if not form.validate_on_submit() or form.event_id.data != event_id:
        refuse_if_stale(form)
        flash("Elija una intención de la lista.", "error")
        return _back_to(sender_id, f"#m{event_id}")
    try:
        review.save_correction(
            request_session(),
            event_id=event_id,
            intent=form.intent.data,
            entities_text=form.entities.data or "",
            username=current_user.username,
        )
    except CorrectionError as error:
        return render_transcript(sender_id, refused_correction=(event_id, form, str(error)), status=422)
    flash("Corrección guardada; saldrá en la exportación para el entrenamiento.", "info")
    return _back_to(sender_id, f"#m{event_id}")


@bp.route("/correcciones")
@requires("review")
def corrections() -> ResponseReturnValue:
    page = review.corrections_page(request_session())
    return render_template(
        "corrections.html", title="Correcciones para entrenamiento", rows=page.rows, preview=page.preview
    )


@bp.route("/correcciones/nlu_correcciones.yml")
@requires("review")
def export_corrections() -> ResponseReturnValue:
    filename, body = review.corrections_download(request_session())
    return Response(
        body,
        mimetype="application/x-yaml",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
