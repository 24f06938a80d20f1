"""The entry point for every turn: route to a handler inside one unit of work, never fail loudly.

A message that is only a number ("1", "opción 2", "4821") always means an answer to what the
assistant last asked (an option, or the check code), whatever intent the NLU gave it: that is
how basic phones use the assistant.
"""
from __future__ import annotations

import logging
import re
from typing import Callable

from bot.assistant import identity, payments, standards, trainings
from bot.assistant.turn import MAIN_MENU, SLOT_AWAITING, SLOT_FALLBACKS, SLOT_FARMER, SLOT_PENDING, Context, Reply, Turn
from bot.config import settings
from bot.db import session_scope
from bot.records.farmers import farmers_for_phone
from bot.records.requests import record_human_request
from bot.replies.spanish import first_name
from bot.text import plain

log = logging.getLogger(__name__)

NUMBER_REPLY = re.compile(r"^\s*(?:opcion|la|el|numero|num|no\.?|#)?\s*(\d{1,6})\s*[.)]?\s*$")
Handler = Callable[[Context, "str | None"], Reply]


def respond(key: str, turn: Turn) -> Reply:
    """Handles one turn. Any failure becomes a polite reply and a log line, never a traceback."""
    try:
        with session_scope() as session:
            ctx = Context(turn=turn, session=session, config=settings())
            if NUMBER_REPLY.match(plain(turn.text or "")):
                key = "number"
            reply = HANDLERS[key](ctx, None)
        log.info("turn handled: %s -> %d message(s)", key, len(reply.messages))
        return reply
    except Exception:  # noqa: BLE001 - the farmer must always get an answer
        log.exception("turn failed: %s", key)
        return Reply.say("error")


def run_key(ctx: Context, key: str) -> Reply:
    name, _, arg = key.partition(":")
    return HANDLERS[name](ctx, arg or None)


def resume(ctx: Context, pending: dict | None, fallback: Reply) -> Reply:
    if not pending or pending.get("key") not in HANDLERS:
        return fallback
    return HANDLERS[pending["key"]](ctx, pending.get("arg"))


def menu(ctx: Context, _arg=None) -> Reply:
    return Reply.say("menu_intro", options=MAIN_MENU)


def greet(ctx: Context, _arg=None) -> Reply:
    if identity.never_asked(ctx):
        return Reply.say("hello").then(identity.privacy_notice(ctx, None))
    farmers = farmers_for_phone(ctx.session, ctx.turn.phone) if identity.consented(ctx) else []
    hello = Reply.say("hello_known", name=first_name(farmers[0].name)) if len(farmers) == 1 else Reply.say("hello")
    return hello.then(Reply.say("menu_intro", options=MAIN_MENU))


def number(ctx: Context, _arg=None) -> Reply:
    digits = NUMBER_REPLY.match(plain(ctx.turn.text)).group(1)
    if ctx.turn.slots.get(SLOT_AWAITING) == "verification":
        pending = ctx.turn.slots.get(SLOT_PENDING) or {}
        problem = identity.answer_check(ctx, pending)
        return problem if problem is not None else resume(ctx, pending, Reply.say("ok"))
    options = ctx.turn.options
    if not options:
        return Reply.say("number_unknown", options=MAIN_MENU)
    choice = int(digits)
    if not 1 <= choice <= len(options):
        if len(options) == 1:
            return Reply.say("number_only_option", options=options)
        return Reply.say("number_out_of_range", options=options, count=len(options))
    return run_key(ctx, options[choice - 1].key)


def _option_like(ctx: Context, keys: tuple[str, ...]):
    return next((o for o in ctx.turn.options if o.key.split(":")[0] in keys), None)


def affirm(ctx: Context, _arg=None) -> Reply:
    option = _option_like(ctx, ("consent_yes", "enrol_yes", "cancel_yes", "quality_detail"))
    if option is not None:
        return run_key(ctx, option.key)
    if "acepto" in plain(ctx.turn.text) and not identity.consented(ctx):
        return consent_yes(ctx)
    return Reply.say("ok")


def deny(ctx: Context, _arg=None) -> Reply:
    option = _option_like(ctx, ("consent_no", "dismiss"))
    return run_key(ctx, option.key) if option is not None else Reply.say("ok")


def consent_yes(ctx: Context, _arg=None) -> Reply:
    identity.record_answer(ctx, accepted=True)
    pending = ctx.turn.slots.get(SLOT_PENDING)
    thanks = Reply.say("consent_thanks")
    if pending:
        return thanks.then(resume(ctx, pending, Reply()))
    return thanks.then(Reply.say("menu_intro", options=MAIN_MENU))


def consent_no(ctx: Context, _arg=None) -> Reply:
    identity.record_answer(ctx, accepted=False)
    return Reply.say("consent_declined")


def farmer_chosen(ctx: Context, farmer_id: str) -> Reply:
    farmer = identity.choose_farmer(ctx, farmer_id)
    if farmer is None:
        return Reply.say("ok")
    ctx.turn.slots[SLOT_FARMER] = farmer.id
    reply = resume(ctx, ctx.turn.slots.get(SLOT_PENDING), Reply.say("ok"))
    reply.remember[SLOT_FARMER] = farmer.id
    return reply


def human(ctx: Context, _arg=None, reason: str = "asked") -> Reply:
    phone = ctx.turn.phone or ctx.turn.conversation_id
    farmers = farmers_for_phone(ctx.session, phone) if identity.consented(ctx) else []
    request, new = record_human_request(
        ctx.session, phone, ctx.turn.conversation_id,
        farmers[0].id if len(farmers) == 1 else None, reason, ctx.turn.text,
    )
    ref = f"S-{request.id:05d}"
    if reason != "asked":
        return Reply.say("not_understood_again")
    return Reply.say("human_requested" if new else "human_already", ref=ref)


def fallback(ctx: Context, _arg=None) -> Reply:
    misses = int(ctx.turn.slots.get(SLOT_FALLBACKS) or 0) + 1
    if misses >= 2:
        return human(ctx, reason="not_understood")
    reply = Reply.say("not_understood", options=MAIN_MENU)
    reply.remember[SLOT_FALLBACKS] = misses
    return reply


MEDIA_TEMPLATES = (("audio", "media_audio"), ("video", "media_video"), ("image", "media_image"))


def media(ctx: Context, _arg=None) -> Reply:
    """A voice note, photo, video or document (the channel puts them in the message metadata):
    a kind answer, since the assistant cannot read them yet. Staff see them in the console."""
    kinds = {str(item.get("content_type") or "").split("/", 1)[0].lower()
             for item in ctx.turn.metadata.get("media") or []}
    if not kinds:
        return Reply.say("media_missing")  # "le mando una foto" with no file attached
    template = next((t for kind, t in MEDIA_TEMPLATES if kind in kinds), "media_document")
    return Reply.say(template)


def _fixed(template: str, with_menu: bool = False) -> Handler:
    def handler(ctx: Context, _arg=None) -> Reply:
        return Reply.say(template, options=MAIN_MENU if with_menu else ())

    return handler


HANDLERS: dict[str, Handler] = {
    "greet": greet,
    "goodbye": _fixed("goodbye"),
    "thank": _fixed("thanks_reply"),
    "bot_challenge": _fixed("bot_challenge"),
    "out_of_scope": _fixed("out_of_scope", with_menu=True),
    "dismiss": _fixed("ok"),
    "help": menu,
    "fallback": fallback,
    "number": number,
    "affirm": affirm,
    "deny": deny,
    "consent_yes": consent_yes,
    "consent_no": consent_no,
    "farmer": farmer_chosen,
    "human": human,
    "payments": payments.payment_status,
    "trainings": trainings.list_trainings,
    "enrol": trainings.ask_enrol,
    "enrol_yes": trainings.confirm_enrol,
    "cancel_enrolment": trainings.ask_cancel,
    "cancel_yes": trainings.confirm_cancel,
    "quality": standards.quality,
    "quality_detail": standards.quality_detail,
    "size": standards.avocado_size,
    "media": media,
}
