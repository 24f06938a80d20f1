"""Conversations: the list with its search and filters, one phone's transcript, and an officer's
reply to the farmer."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from bot.console.auth import requires
from bot.console.forms import CorrectionForm, ReplyForm, correction_form, reply_form, review_form
from bot.console.services import conversations, replies, transcript
from bot.console.sessions import request_session, separate_session
from bot.console.views.common import (
    args_without_page,
    console_settings,
    date_arg,
    page_arg,
    refresh_conversations,
    refuse_if_stale,
    text_arg,
)
from bot.records.vocabulary import MEDIA

bp = Blueprint("conversations", __name__)


@bp.route("/")
def home() -> ResponseReturnValue:
    return redirect(url_for("conversations.conversations"))


def _filters() -> conversations.ConversationFilters:
    args = request.args
    return conversations.ConversationFilters(
        q=text_arg("q"),
        medium=args.get("medio", "") if args.get("medio") in MEDIA else "",
        date_from=date_arg("desde"),
        date_to=date_arg("hasta"),
        intent=text_arg("intencion"),
        low_confidence=bool(args.get("baja_confianza")),
        fallback=bool(args.get("no_entendio")),
        human=bool(args.get("pidio_persona")),
        unreviewed=bool(args.get("sin_revisar")),
        page=page_arg(),
    )


@bp.route("/conversaciones", endpoint="conversations")
def conversation_list() -> ResponseReturnValue:
    refresh_conversations()
    filters = _filters()
    found = conversations.list_conversations(request_session(), current_user, filters, console_settings())
    return render_template(
        "conversations.html",
        title="Conversaciones",
        page=found.page,
        f=filters,
        intents=found.intents,
        args=args_without_page(),
    )


def render_transcript(
    sender_id: str,
    *,
    reply: ReplyForm | None = None,
    refused_correction: tuple[int, CorrectionForm, str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    """The transcript page. A refused form is shown as it was submitted: the reply form, or a
    message's correction form (event id, form, error) with its error."""
    page = transcript.transcript_page(request_session(), current_user, sender_id, console_settings())
    if page is None:
        abort(404)
    correction_forms = {
        event_id: correction_form(event_id, page.intents, intent, entities)
        for event_id, (intent, entities) in page.correction_defaults.items()
    }
    correction_errors = {}
    if refused_correction is not None:
        event_id, form, error = refused_correction
        correction_forms[event_id], correction_errors[event_id] = form, error
    body = render_template(
        "transcript.html",
        title=f"Conversación {sender_id}",
        sender_id=sender_id,
        items=page.items,
        farmers=page.farmers,
        review=page.review,
        review_form=review_form(page.review, page.tags),
        medium=page.medium,
        reply_form=reply_form(page.medium, page.window_open, page.open_request) if reply is None else reply,
        window_open=page.window_open,
        requests=page.requests,
        correction_forms=correction_forms,
        correction_errors=correction_errors,
        template_available=page.template_available,
        low=page.low_confidence,
    )
    return body, status


@bp.route("/conversaciones/<sender_id>", endpoint="transcript")
def show_transcript(sender_id: str) -> ResponseReturnValue:
    refresh_conversations()
    return render_transcript(sender_id)


@bp.route("/conversaciones/<sender_id>/responder", methods=["POST"])
@requires("reply")
def reply(sender_id: str) -> ResponseReturnValue:
    form = ReplyForm()
    if not form.validate_on_submit():
        refuse_if_stale(form)
        flash("Escriba el mensaje (máximo 1,500 caracteres).", "error")
        return render_transcript(sender_id, reply=form, status=422)
    try:
        outcome = replies.reply_to_farmer(
            request_session(),
            separate_session,
            current_user,
            phone=sender_id,
            medium=form.medium.data,
            body=form.body.data.strip(),
            use_template=bool(form.use_template.data),
            human_request_id=_request_id(form.human_request_id.data),
            template_sid=console_settings().whatsapp_template_sid,
        )
    except replies.WindowClosed as refused:
        flash(str(refused), "warning")
        form.medium.data = "sms"
        return render_transcript(sender_id, reply=form, status=409)
    flash(outcome.message, "info" if outcome.status == "sent" else "warning")
    return redirect(url_for("conversations.transcript", sender_id=sender_id) + "#responder")


def _request_id(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
