"""Derechos ARCO: the list of requests, recording one from a farmer's page, a request's page with
its steps and the actions of its right, and the access file (JSON or a readable HTML page). Only
accounts with the "privacy" permission see any of it."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from bot.console.arco_forms import (
    CloseArcoForm,
    ConfirmForm,
    OpposeForm,
    RecordArcoForm,
    RectifyForm,
    close_form,
    oppose_form,
    organisation_id,
    rectify_form,
)
from bot.console.auth import requires
from bot.console.services import arco, arco_access, arco_cancellation
from bot.console.services.arco import Outcome
from bot.console.sessions import request_session
from bot.console.views.common import args_without_page, console_settings, page_arg, refuse_if_stale
from bot.records.arco_schema import ArcoRequest

bp = Blueprint("arco", __name__)


def _done(outcome: Outcome, request_id: int) -> ResponseReturnValue:
    flash(outcome.message, outcome.category)
    return redirect(url_for("arco.request_page", request_id=request_id))


def _found(request_id: int) -> ArcoRequest:
    return arco.find(request_session(), request_id) or abort(404)


@bp.route("/arco")
@requires("privacy")
def requests() -> ResponseReturnValue:
    farmer_id = request.args.get("productor", type=int)
    settings = console_settings()
    page = arco.list_page(
        request_session(),
        current_user,
        farmer_id,
        page_arg(),
        settings.page_size,
        settings.arco_response_business_days,
    )
    return render_template("arco_list.html", title="Derechos ARCO", page=page, args=args_without_page())


@bp.route("/productores/<int:farmer_id>/arco", methods=["POST"])
@requires("privacy")
def record(farmer_id: int) -> ResponseReturnValue:
    form = RecordArcoForm()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        abort(400)
    settings = console_settings()
    draft = arco.RequestDraft(
        arco_right=form.arco_right.data or "",
        received_on=form.received_on.data,
        identity_check=form.identity_check.data or "",
        notes=form.notes.data or "",
    )
    outcome = arco.record(
        request_session(),
        current_user,
        farmer_id,
        draft,
        settings.arco_response_business_days,
        settings.timezone,
    )
    flash(outcome.message, outcome.category)
    if outcome.request_id is None:
        return redirect(url_for("records.farmer", farmer_id=farmer_id) + "#arco")
    return redirect(url_for("arco.request_page", request_id=outcome.request_id))


@bp.route("/arco/<int:request_id>")
@requires("privacy")
def request_page(request_id: int) -> ResponseReturnValue:
    settings = console_settings()
    page = arco.request_page(
        request_session(), current_user, request_id, settings.arco_response_business_days
    ) or abort(404)
    return render_template(
        "arco_request.html",
        title=f"Solicitud ARCO {page.request.id}",
        page=page,
        close=close_form(),
        confirm=ConfirmForm(formdata=None),
        rectify=rectify_form(page.farmer, page.organisations),
        oppose=oppose_form(page.phones),
    )


@bp.route("/arco/<int:request_id>/acceso.json")
@requires("privacy")
def access_json(request_id: int) -> ResponseReturnValue:
    return _access_file(request_id, "json")


@bp.route("/arco/<int:request_id>/acceso.html")
@requires("privacy")
def access_html(request_id: int) -> ResponseReturnValue:
    return _access_file(request_id, "html")


def _access_file(request_id: int, fmt: str) -> ResponseReturnValue:
    made = arco_access.access_file(
        request_session(), current_user, _found(request_id), console_settings().tracker_database_url, fmt
    )
    if isinstance(made, Outcome):
        return _done(made, request_id)
    if fmt == "json":
        body, mimetype = made.json_bytes(), "application/json"
    else:
        sections = arco_access.readable(made.document)
        body = render_template("arco_access.html", document=made.document, sections=sections).encode("utf-8")
        mimetype = "text/html"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{made.filename}.{fmt}"'
    return response


@bp.route("/arco/<int:request_id>/cerrar", methods=["POST"])
@requires("privacy")
def close(request_id: int) -> ResponseReturnValue:
    row = _found(request_id)
    form = CloseArcoForm()
    if not form.validate_on_submit():
        refuse_if_stale(form)
    outcome = arco.close(request_session(), current_user, row, form.outcome.data or "", form.note.data or "")
    return _done(outcome, request_id)


@bp.route("/arco/<int:request_id>/rectificar", methods=["POST"])
@requires("privacy")
def rectify(request_id: int) -> ResponseReturnValue:
    row = _found(request_id)
    form = RectifyForm()
    if not form.validate_on_submit():
        refuse_if_stale(form)
    wanted = {
        "name": form.name.data,
        "municipality": form.municipality.data,
        "state": form.state.data,
        "organisation_id": organisation_id(form.organisation_id.data),
        "preferred_medium": form.preferred_medium.data,
    }
    return _done(arco.rectify(request_session(), current_user, row, wanted), request_id)


@bp.route("/arco/<int:request_id>/oponer", methods=["POST"])
@requires("privacy")
def oppose(request_id: int) -> ResponseReturnValue:
    row = _found(request_id)
    form = OpposeForm()
    if not form.validate_on_submit():
        refuse_if_stale(form)
    outcome = arco.oppose(
        request_session(), current_user, row, list(form.purposes.data or []), form.phone.data
    )
    return _done(outcome, request_id)


@bp.route("/arco/<int:request_id>/bloquear", methods=["POST"])
@requires("privacy")
def block(request_id: int) -> ResponseReturnValue:
    row = _found(request_id)
    if not _confirmed():
        return _done(Outcome(False, "Marque la casilla para confirmar el bloqueo.", "warning"), request_id)
    return _done(arco_cancellation.block(request_session(), current_user, row), request_id)


@bp.route("/arco/<int:request_id>/suprimir", methods=["POST"])
@requires("privacy")
def suppress(request_id: int) -> ResponseReturnValue:
    row = _found(request_id)
    if not _confirmed():
        return _done(Outcome(False, "Marque la casilla para confirmar la supresión.", "warning"), request_id)
    outcome = arco_cancellation.suppress(
        request_session(), current_user, row, console_settings().tracker_database_url
    )
    return _done(outcome, request_id)


def _confirmed() -> bool:
    form = ConfirmForm()
    form.validate_on_submit()
    refuse_if_stale(form)
    return bool(form.confirm.data)
