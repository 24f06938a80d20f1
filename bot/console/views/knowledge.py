"""Explicaciones and Preguntas frecuentes: what the assistant answers with when a farmer asks why
(a rejection or hold reason, a status, a term) or how to do something in the program. Everyone
reads them; officers and administrators edit them and add questions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from bot.console.auth import requires
from bot.console.forms import (
    ExplanationForm,
    FaqForm,
    NewFaqForm,
    explanation_form,
    faq_form,
)
from bot.console.services import knowledge
from bot.console.sessions import request_session
from bot.console.views.common import refuse_if_stale

bp = Blueprint("knowledge", __name__)

REFUSED = "No se guardó: vea qué corregir en el formulario abierto, abajo."

# A refused form, shown again as submitted: (the entry's code, the form, its problems).
Refused = tuple[str, ExplanationForm | FaqForm, list[str]]


def _flash(saved: knowledge.Saved) -> None:
    flash(saved.message, "info")
    for warning in saved.warnings:
        flash(warning, "warning")


# --- Explicaciones ------------------------------------------------------------------------------


def render_explanations(refused: Refused | None = None, status: int = 200) -> ResponseReturnValue:
    page = knowledge.explanations_page(request_session())
    forms: dict[str, ExplanationForm | FaqForm] = {}
    if current_user.can("knowledge"):
        forms = {row.entry.code: explanation_form(row.entry) for group in page.groups for row in group.rows}
    problems: dict[str, list[str]] = {}
    if refused is not None:
        code, form, problems[code] = refused
        forms[code] = form
    body = render_template(
        "explanations.html", title="Explicaciones", page=page, forms=forms, problems=problems
    )
    return body, status


@bp.route("/explicaciones", endpoint="explanations")
def explanations_page() -> ResponseReturnValue:
    return render_explanations()


@bp.route("/explicaciones/editar", methods=["POST"])
@requires("knowledge")
def edit_explanation() -> ResponseReturnValue:
    form = ExplanationForm()
    if not form.validate_on_submit():
        refuse_if_stale(form)
        abort(400)
    code = form.code.data or ""
    draft = knowledge.ExplanationDraft(
        title=form.title.data or "",
        keywords=form.keywords.data or "",
        explanation=form.explanation.data or "",
        what_to_do=form.what_to_do.data or "",
        source=form.source.data or "",
    )
    try:
        saved = knowledge.edit_explanation(request_session(), current_user, code, draft)
    except knowledge.EntryRefused as refused:
        flash(REFUSED, "error")
        return render_explanations((code, form, refused.problems), status=422)
    if saved is None:
        abort(404)
    _flash(saved)
    return redirect(url_for("knowledge.explanations") + f"#x-{code}")


# --- Preguntas frecuentes -----------------------------------------------------------------------


def render_faq(
    refused: Refused | None = None, new: tuple[NewFaqForm, list[str]] | None = None, status: int = 200
) -> ResponseReturnValue:
    """The FAQ page; a refused edit (code, form, problems) or a refused new question (form,
    problems) is shown as submitted."""
    page = knowledge.faq_page(request_session())
    forms: dict[str, ExplanationForm | FaqForm] = {}
    if current_user.can("knowledge"):
        forms = {row.entry.code: faq_form(row.entry) for row in page.rows}
    problems: dict[str, list[str]] = {}
    if refused is not None:
        code, form, problems[code] = refused
        forms[code] = form
    new_form, new_problems = new or (NewFaqForm(formdata=None), [])
    body = render_template(
        "faq.html",
        title="Preguntas frecuentes",
        page=page,
        forms=forms,
        problems=problems,
        new_form=new_form,
        new_problems=new_problems,
    )
    return body, status


def _faq_draft(form: FaqForm) -> knowledge.FaqDraft:
    return knowledge.FaqDraft(
        question=form.question.data or "",
        keywords=form.keywords.data or "",
        answer=form.answer.data or "",
        source=form.source.data or "",
    )


@bp.route("/preguntas-frecuentes", endpoint="faq")
def faq_page() -> ResponseReturnValue:
    return render_faq()


@bp.route("/preguntas-frecuentes/editar", methods=["POST"])
@requires("knowledge")
def edit_faq() -> ResponseReturnValue:
    form = FaqForm()
    if not form.validate_on_submit():
        refuse_if_stale(form)
        abort(400)
    code = form.code.data or ""
    try:
        saved = knowledge.edit_faq(request_session(), current_user, code, _faq_draft(form))
    except knowledge.EntryRefused as refused:
        flash(REFUSED, "error")
        return render_faq((code, form, refused.problems), status=422)
    if saved is None:
        abort(404)
    _flash(saved)
    return redirect(url_for("knowledge.faq") + f"#p-{code}")


@bp.route("/preguntas-frecuentes/nueva", methods=["POST"])
@requires("knowledge")
def add_faq() -> ResponseReturnValue:
    form = NewFaqForm()
    if not form.validate_on_submit():
        refuse_if_stale(form)
        abort(400)
    try:
        saved = knowledge.add_faq(request_session(), current_user, form.code.data or "", _faq_draft(form))
    except knowledge.EntryRefused as refused:
        flash(REFUSED, "error")
        return render_faq(new=(form, refused.problems), status=422)
    _flash(saved)
    return redirect(url_for("knowledge.faq") + f"#p-{saved.code}")
