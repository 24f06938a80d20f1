"""The conversation's own handlers: greetings, the menu, numbered answers, yes and no, consent,
a request for a person, files, and what the assistant did not understand.

A message that is only a number ("1", "opción 2", "4821") always means an answer to what the
assistant last asked (an option, or the check code), whatever intent the NLU gave it: that is
how basic phones use the assistant (bot/assistant/skills.py routes it here).
"""

from __future__ import annotations

import re

from bot.assistant import identity, steps
from bot.assistant.choices import pick_option
from bot.assistant.turn import (
    MAIN_MENU,
    SLOT_AWAITING,
    SLOT_FALLBACKS,
    SLOT_FARMER,
    SLOT_PENDING,
    Context,
    Handler,
    Option,
    Reply,
)
from bot.records.farmers import farmers_for_phone
from bot.records.requests import record_human_request
from bot.records.schema import HumanRequest
from bot.replies.spanish import first_name
from bot.text import plain

NUMBER_REPLY = re.compile(r"^\s*(?:opcion|la|el|numero|num|no\.?|#)?\s*(\d{1,6})\s*[.)]?\s*$")
CODE = re.compile(r"^\s*\d{4}\s*$")  # what a check code or a PIN looks like


def is_number_reply(text: str) -> bool:
    return NUMBER_REPLY.match(plain(text or "")) is not None


def menu(ctx: Context, _arg: str | None = None) -> Reply:
    return Reply.say("menu_intro", options=MAIN_MENU)


def greet(ctx: Context, _arg: str | None = None) -> Reply:
    if identity.never_asked(ctx):
        return identity.privacy_notice(ctx, None)  # it says hello itself, in one SMS part
    farmers = farmers_for_phone(ctx.session, ctx.phone) if identity.consented(ctx) else []
    hello = (
        Reply.say("hello_known", name=first_name(farmers[0].name))
        if len(farmers) == 1
        else Reply.say("hello")
    )
    return hello.then(Reply.say("menu_intro", options=MAIN_MENU))


def number(ctx: Context, _arg: str | None = None) -> Reply:
    match = NUMBER_REPLY.match(plain(ctx.turn.text))
    awaiting, pending = ctx.turn.slots.get(SLOT_AWAITING), ctx.turn.slots.get(SLOT_PENDING) or {}
    if awaiting == identity.AWAITING_CODE:
        problem = identity.answer_check(ctx, pending)
        return problem if problem is not None else ctx.resume(pending, Reply.say("ok"))
    if awaiting == identity.AWAITING_NEW_PIN:
        return identity.answer_new_pin(ctx, pending)
    if awaiting is None and CODE.match(ctx.turn.text):  # a check code, the question long gone
        lock = identity.phone_lock(ctx)
        if lock is not None:
            return identity.lock_notice(ctx, lock)
    options = ctx.turn.options
    if not options:
        return Reply.say("number_unknown", options=MAIN_MENU)
    if match is None:  # read as a number by the NLU, but more than one
        return Reply.say("number_unknown", options=MAIN_MENU)
    choice = int(match.group(1))
    if not 1 <= choice <= len(options):
        if len(options) == 1:
            return Reply.say("number_only_option", options=options)
        return Reply.say("number_out_of_range", options=options, count=len(options))
    return ctx.run(options[choice - 1].key)


def _option_like(ctx: Context, keys: tuple[str, ...]) -> Option | None:
    return next((o for o in ctx.turn.options if o.key.split(":")[0] in keys), None)


def affirm(ctx: Context, _arg: str | None = None) -> Reply:
    option = _option_like(ctx, steps.ANSWERED_BY_YES)
    if option is not None:
        return ctx.run(option.key)
    if "acepto" in plain(ctx.turn.text) and not identity.consented(ctx):
        return consent_yes(ctx)
    return _runner_up(ctx) or Reply.say("ok")


def deny(ctx: Context, _arg: str | None = None) -> Reply:
    option = _option_like(ctx, steps.ANSWERED_BY_NO)
    return ctx.run(option.key) if option is not None else _runner_up(ctx) or Reply.say("ok")


# A yes or no with nothing on offer to answer: "si mi aguacate sale de 150 gramos me lo compran?"
# says more than yes. Its words are then read as the NLU's next most likely intent.
NOT_A_RUNNER_UP = frozenset({"affirm", "deny", "inform_number", "nlu_fallback", "greet", "thank", "goodbye"})
MIN_WORDS_FOR_MORE_THAN_YES = 4


# "Nel, es todo, gracias": a no that closes the conversation, not a question.
CLOSING = re.compile(r"\b(?:gracias|es todo|seria todo|nada mas|eso es todo|ya es todo)\b")
ASKS = re.compile(r"\?|pag|cobr|deposit|factur|entreg|curso|taller|calibre|calidad|cuando|cuanto")


def _runner_up(ctx: Context) -> Reply | None:
    said = plain(ctx.turn.text)
    if CLOSING.search(said) and not ASKS.search(said):
        return Reply.say("thanks_reply") if "gracias" in said else None
    if len(said.split()) < MIN_WORDS_FOR_MORE_THAN_YES:
        return None
    following = next(
        (i for i in ctx.turn.ranking[1:] if i not in NOT_A_RUNNER_UP and i in ctx.handlers), None
    )
    return ctx.handlers[following](ctx, None) if following else None


def consent_yes(ctx: Context, _arg: str | None = None) -> Reply:
    identity.record_answer(ctx, accepted=True)
    pending = ctx.turn.slots.get(SLOT_PENDING)
    thanks = Reply.say("consent_thanks")
    if pending:
        return thanks.then(ctx.resume(pending, Reply()))
    return thanks.then(Reply.say("menu_intro", options=MAIN_MENU))


def consent_no(ctx: Context, _arg: str | None = None) -> Reply:
    identity.record_answer(ctx, accepted=False)
    return Reply.say("consent_declined")


def farmer_named(ctx: Context) -> Reply | None:
    """On a shared phone, after "¿Quién pregunta?": the person answers with their name or
    nickname ("soy lupe") as well as with the number."""
    choices = farmer_choices(ctx)
    if not choices or is_number_reply(ctx.turn.text):
        return None
    chosen = pick_option(choices, ctx.turn.text)
    if chosen is not None:
        return ctx.run(chosen.key)
    if INTRODUCES.match(plain(ctx.turn.text)):  # "soy pedro": nobody of that name on this phone
        return _who_again(ctx, "choose_farmer_unknown")
    return None


def explain_farmer_choice(ctx: Context, _arg: str | None = None) -> Reply:
    """ "¿Y eso por qué?" after "¿Quién pregunta?": each person sees only their own payments."""
    return _who_again(ctx, "choose_farmer_why")


def farmer_choices(ctx: Context) -> list[Option]:
    """The people of a shared phone on offer, when "¿Quién pregunta?" was the last question."""
    return [o for o in ctx.turn.options if o.key.startswith(f"{steps.FARMER_CHOSEN}:")]


def _who_again(ctx: Context, template: str) -> Reply:
    """ "¿Quién pregunta?" again, in other words, the request that asked it still waiting."""
    reply = Reply.say(template, options=farmer_choices(ctx))
    reply.pending = ctx.turn.slots.get(SLOT_PENDING)
    return reply


# How a person says who they are: "soy lupe", "habla juan", "me llamo rosa".
INTRODUCES = re.compile(r"^\W*(?:soy|habla|me llamo|aqui)\b")


def person_named(ctx: Context) -> int | None:
    """On a shared phone, a message that names another of its people ("ahora pregunta mi esposa
    guadalupe") speaks for that person from now on: their id, set for this turn, else None."""
    current = ctx.turn.slots.get(SLOT_FARMER)
    if current is None or ctx.turn.phone is None or not identity.consented(ctx):
        return None
    others = [f for f in farmers_for_phone(ctx.session, ctx.turn.phone) if f.id != int(current)]
    named = identity.farmer_named_in(others, ctx.turn.text)
    if named is None:
        return None
    ctx.turn.slots[SLOT_FARMER] = named.id
    return named.id


def farmer_chosen(ctx: Context, farmer_id: str | None) -> Reply:
    farmer = identity.choose_farmer(ctx, farmer_id)
    if farmer is None:
        return Reply.say("ok")
    ctx.turn.slots[SLOT_FARMER] = farmer.id
    reply = ctx.resume(ctx.turn.slots.get(SLOT_PENDING), Reply.say("ok"))
    reply.remember[SLOT_FARMER] = farmer.id
    return reply


def human_request(ctx: Context, reason: str) -> tuple[HumanRequest, bool]:
    """A request for a person for this phone, with what the farmer wrote and why (a code of
    REQUEST_REASONS); the request and whether it is new (one open request per number)."""
    phone = ctx.turn.phone or ctx.turn.conversation_id
    farmers = farmers_for_phone(ctx.session, phone) if identity.consented(ctx) else []
    return record_human_request(
        ctx.session,
        phone,
        ctx.turn.conversation_id,
        farmers[0].id if len(farmers) == 1 else None,
        reason,
        ctx.turn.text,
    )


def human(ctx: Context, _arg: str | None = None) -> Reply:
    """A person, on request; staff are told when it is because payment answers are locked."""
    reason = "locked_out" if identity.phone_lock(ctx) is not None else "asked"
    request, new = human_request(ctx, reason=reason)
    return Reply.say("human_requested" if new else "human_already", ref=f"S-{request.id:05d}")


def fallback(ctx: Context, _arg: str | None = None) -> Reply:
    return _missed(ctx, "not_understood")


def out_of_scope(ctx: Context, _arg: str | None = None) -> Reply:
    return _missed(ctx, "out_of_scope")


def _missed(ctx: Context, template: str) -> Reply:
    """A message the assistant cannot answer: the menu; the second in a row goes to a person."""
    misses = int(ctx.turn.slots.get(SLOT_FALLBACKS) or 0) + 1
    if misses >= 2:
        human_request(ctx, reason="not_understood")
        return Reply.say("not_understood_again")
    reply = Reply.say(template, options=MAIN_MENU)
    reply.remember[SLOT_FALLBACKS] = misses
    return reply


MEDIA_TEMPLATES = (("audio", "media_audio"), ("video", "media_video"), ("image", "media_image"))


def media(ctx: Context, _arg: str | None = None) -> Reply:
    """A voice note, photo, video or document (the channel puts them in the message metadata):
    a kind answer, since the assistant cannot read them yet. Staff see them in the console."""
    kinds = {
        str(item.get("content_type") or "").split("/", 1)[0].lower()
        for item in ctx.turn.metadata.get("media") or []
    }
    if not kinds:
        return Reply.say("media_missing")  # "le mando una foto" with no file attached
    template = next((t for kind, t in MEDIA_TEMPLATES if kind in kinds), "media_document")
    return Reply.say(template)


def fixed(template: str, with_menu: bool = False) -> Handler:
    """A handler that always says the same thing (optionally followed by the main menu)."""

    def handler(ctx: Context, _arg: str | None = None) -> Reply:
        return Reply.say(template, options=MAIN_MENU if with_menu else ())

    return handler
