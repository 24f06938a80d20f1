"""CSV imports: upload, preview, apply."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from bot.console.auth import requires
from bot.console.forms import ApplyUploadForm, UploadForm
from bot.console.services import imports
from bot.console.sessions import request_session, separate_session
from bot.console.views.common import refuse_if_stale

bp = Blueprint("imports", __name__)


@bp.route("/importar", methods=["GET", "POST"])
@requires("edit")
def upload() -> ResponseReturnValue:
    form = UploadForm()
    if form.validate_on_submit():
        try:
            upload_id = imports.store_upload(
                request_session(),
                current_user,
                kind=form.kind.data,
                filename=form.file.data.filename,
                raw=form.file.data.read(),
            )
        except imports.UploadError as error:
            flash(str(error), "error")
            return render_template("upload.html", title="Importar CSV", form=form), 422
        return redirect(url_for("imports.upload_preview", upload_id=upload_id))
    if request.method == "POST":
        refuse_if_stale(form)
    return render_template("upload.html", title="Importar CSV", form=form)


@bp.route("/importar/<int:upload_id>")
@requires("edit")
def upload_preview(upload_id: int) -> ResponseReturnValue:
    found = imports.preview(request_session(), upload_id) or abort(404)
    return render_template(
        "upload_preview.html",
        title="Vista previa de la importación",
        upload=found.upload,
        report=found.report,
        preview=found,
        form=ApplyUploadForm(amounts_key=found.amounts_key),
    )


@bp.route("/importar/<int:upload_id>/aplicar", methods=["POST"])
@requires("edit")
def upload_apply(upload_id: int) -> ResponseReturnValue:
    form = ApplyUploadForm()
    if not form.validate_on_submit():
        abort(400)
    session = request_session()
    upload = imports.find_upload(session, upload_id) or abort(404)
    applied = imports.apply_upload(
        session,
        separate_session,
        current_user,
        upload,
        confirm_amounts=bool(form.confirm_amounts.data),
        confirmed_key=form.amounts_key.data or "",
    )
    flash(applied.message, applied.category)
    if not applied.done:
        return redirect(url_for("imports.upload_preview", upload_id=upload_id))
    return redirect(url_for("records.invoices" if upload.kind == "invoices" else "records.trainings"))
