"""Program records: farmers and a farmer's file (and marking a phone as no longer theirs),
invoices, trainings and a training's enrolments."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from bot.console.auth import requires
from bot.console.forms import ReleasePhoneForm
from bot.console.services import records
from bot.console.sessions import request_session
from bot.console.views.common import args_without_page, console_settings, page_arg, text_arg

bp = Blueprint("records", __name__)


@bp.route("/productores")
def farmers() -> ResponseReturnValue:
    q = text_arg("q")
    page = records.farmers_page(request_session(), current_user, q, page_arg(), console_settings().page_size)
    return render_template("farmers.html", title="Productores", page=page, q=q, args=args_without_page())


@bp.route("/productores/<int:farmer_id>")
def farmer(farmer_id: int) -> ResponseReturnValue:
    file = records.farmer_page(request_session(), current_user, farmer_id) or abort(404)
    return render_template(
        "farmer.html",
        title=file.farmer.name,
        farmer=file.farmer,
        deliveries=file.deliveries,
        invoices=file.invoices,
        enrolments=file.enrolments,
        requests=file.requests,
        releases=records.farmer_releases(request_session(), farmer_id),
    )


@bp.route("/productores/<int:farmer_id>/telefonos/liberar", methods=["POST"])
@requires("edit")
def release_phone(farmer_id: int) -> ResponseReturnValue:
    form = ReleasePhoneForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors or "phone" in form.errors:
            abort(400)
        if "note" in form.errors:
            flash("La nota es muy larga: use hasta 500 caracteres.", "warning")
        else:
            flash("Marque la casilla para confirmar que el número ya no es del productor.", "warning")
        return redirect(url_for("records.farmer", farmer_id=farmer_id))
    if records.release_phone(request_session(), current_user, farmer_id, form.phone.data, form.note.data):
        flash(
            "Listo: ese número ya no es del productor. Quien escriba desde él empezará como contacto nuevo.",
            "info",
        )
    else:
        flash("Ese número ya no estaba registrado para este productor.", "warning")
    return redirect(url_for("records.farmer", farmer_id=farmer_id))


@bp.route("/facturas")
def invoices() -> ResponseReturnValue:
    q, status = text_arg("q"), request.args.get("estado", "")
    page = records.invoices_page(
        request_session(), current_user, q, status, page_arg(), console_settings().page_size
    )
    return render_template(
        "invoices.html", title="Facturas", page=page, q=q, status=status, args=args_without_page()
    )


@bp.route("/capacitaciones")
def trainings() -> ResponseReturnValue:
    when = request.args.get("cuando", records.UPCOMING)
    page = records.trainings_page(request_session(), when, page_arg(), console_settings().page_size)
    return render_template(
        "trainings.html", title="Capacitaciones", page=page, when=when, args=args_without_page()
    )


@bp.route("/capacitaciones/<int:training_id>")
def training(training_id: int) -> ResponseReturnValue:
    page = records.training_page(request_session(), current_user, training_id) or abort(404)
    return render_template(
        "training.html", title=page.training.title, training=page.training, enrolments=page.enrolments
    )
