"""Who is writing, and may we use their data: consent, shared phones, the second check."""

from __future__ import annotations

import re
from typing import Any

from bot.assistant import intents, steps
from bot.assistant.choices import words_of
from bot.assistant.turn import SLOT_FARMER, SLOT_PENDING, Context, Option, Reply
from bot.records.consents import has_consented, latest_consent, record_consent
from bot.records.farmers import farmer_for_phone, farmers_for_phone
from bot.records.privacy import (
    CheckResult,
    Lock,
    check_code,
    code_from_folio,
    is_valid_pin,
    lock_of_phone,
    set_pin,
    verification_state,
)
from bot.records.requests import record_human_request
from bot.records.schema import Farmer
from bot.replies.spanish import short_name, until
from bot.text import plain
from bot.timeutil import utcnow

CONTROLLER = "Pequeño Productor"  # who keeps the data, as the short notice names it
# What the last question waits for (the "awaiting" slot): a check code, or a new PIN.
AWAITING_CODE = "verification"
AWAITING_NEW_PIN = "new_pin"


def privacy_notice(ctx: Context, pending: dict[str, Any] | None) -> Reply:
    reply = Reply.say(
        "privacy_notice",
        options=[Option.named("accept", steps.CONSENT_YES), Option.named("no", steps.CONSENT_NO)],
        controller=CONTROLLER,
        notice_url=ctx.config.privacy_notice_url,
    )
    reply.pending = ctx.waiting(pending) if pending else None
    return reply


def never_asked(ctx: Context) -> bool:
    return ctx.turn.phone is not None and latest_consent(ctx.session, ctx.turn.phone) is None


def consented(ctx: Context) -> bool:
    return ctx.turn.phone is not None and has_consented(ctx.session, ctx.turn.phone)


def record_answer(ctx: Context, accepted: bool) -> None:
    if ctx.turn.phone is not None:
        record_consent(ctx.session, ctx.turn.phone, accepted)


def identify(ctx: Context, pending: dict[str, Any]) -> Farmer | Reply:
    """The farmer this turn speaks for, or the reply that must come first."""
    if not consented(ctx):
        return privacy_notice(ctx, pending)
    farmers = farmers_for_phone(ctx.session, ctx.phone)
    if not farmers:
        return Reply.say("unknown_number", program_phone=ctx.config.program_phone)
    if len(farmers) == 1:
        return farmers[0]
    chosen = ctx.turn.slots.get(SLOT_FARMER)
    if chosen is not None:
        farmer = farmer_for_phone(ctx.session, ctx.phone, int(chosen))
        if farmer is not None:
            return farmer
    named = farmer_named_in(farmers, ctx.turn.text)  # "aquí guadalupe, ¿ya me depositaron?"
    if named is not None:
        return named
    reply = Reply.say(
        "choose_farmer",
        options=[Option(short_name(f.name), steps.with_arg(steps.FARMER_CHOSEN, f.id)) for f in farmers],
    )
    reply.pending = ctx.waiting(pending)
    return reply


def choose_farmer(ctx: Context, farmer_id: str | None) -> Farmer | None:
    """The chosen farmer, checked again against the phone (ids in slots are never trusted)."""
    if ctx.turn.phone is None or not (farmer_id or "").isdigit():
        return None
    return farmer_for_phone(ctx.session, ctx.turn.phone, int(farmer_id or 0))


def checked_farmer(ctx: Context, pending: dict[str, Any]) -> Farmer | Reply:
    """The farmer this turn speaks for, once their payment data may be shown (consent, who on a
    shared phone, the check code); otherwise the reply that must come first."""
    farmer = identify(ctx, pending)
    if isinstance(farmer, Reply):
        return farmer
    blocked = require_check(ctx, farmer, pending)
    return blocked if blocked is not None else farmer


def require_check(ctx: Context, farmer: Farmer, pending: dict[str, Any]) -> Reply | None:
    """None when payment data may be shown; otherwise the question (or lock) to send."""
    state = verification_state(ctx.session, ctx.phone, farmer.id)
    waiting = ctx.waiting({**pending, "farmer_id": farmer.id})
    if state.lock is not None:
        return _locked(ctx, state.lock, waiting)
    if state.verified:
        return None
    return _awaiting_code(Reply.say("ask_pin" if farmer.pin_hash else "ask_code"), waiting)


def answer_check(ctx: Context, pending: dict[str, Any]) -> Reply | None:
    """None when the code was right (the pending request may go on), else the reply to send."""
    farmer = choose_farmer(ctx, str(pending.get("farmer_id")))
    if farmer is None:
        return Reply.say("ok")
    outcome = check_code(ctx.session, ctx.phone, farmer, ctx.turn.text, ctx.config)
    if outcome.result is CheckResult.LOCKED:
        return _locked(ctx, outcome.lock, pending)
    if outcome.result is CheckResult.WRONG:
        return _awaiting_code(Reply.say("code_wrong", left=outcome.attempts_left), pending)
    return None


# "No lo tengo", "no traigo mi credencial", "no me lo sé": asked for the check code, without it.
WITHOUT_CODE = re.compile(
    r"\bno (?:lo |la |me lo |me la |me )?(?:tengo|traigo|encuentro|se|recuerdo|acuerdo)\b|"
    r"\b(?:cual|que) (?:folio|credencial|numero|numeros|nip)\b|\bperdi\b"
)


def without_code(text: str) -> bool:
    return WITHOUT_CODE.search(plain(text)) is not None


def explain_check(ctx: Context, _arg: str | None = None) -> Reply:
    """ "¿Y por qué?" or "no lo tengo" when asked for the check code: why it is asked, or what
    to do without it, and the same question still open (the next 4 numbers are checked)."""
    pending = ctx.turn.slots.get(SLOT_PENDING) or {}
    farmer = choose_farmer(ctx, str(pending.get("farmer_id")))
    if farmer is None:
        return Reply.say("ok")
    what = "pin" if farmer.pin_hash else "code"
    reason = "missing" if without_code(ctx.turn.text) else "why"
    return _awaiting_code(Reply.say(f"{what}_{reason}"), pending)


def _awaiting_code(reply: Reply, pending: dict[str, Any]) -> Reply:
    reply.awaiting, reply.pending = AWAITING_CODE, pending
    return reply


def _locked(ctx: Context, lock: Lock | None, pending: dict[str, Any]) -> Reply:
    """The lock and when it ends. A code written while locked is answered with the lock again,
    so the question stays open (it is never compared while the lock lasts). A lock that waits
    for staff puts the phone in their queue, saying why (never with the code written)."""
    if lock is None or lock.held_for_staff:
        farmer_id = pending.get("farmer_id")
        record_human_request(
            ctx.session,
            ctx.phone,
            ctx.turn.conversation_id,
            int(farmer_id) if farmer_id is not None else None,
            "locked_out",
            None,
        )
    return _awaiting_code(lock_notice(ctx, lock), pending)


def lock_notice(ctx: Context, lock: Lock | None) -> Reply:
    """That payment answers are locked, and until when (or until staff lift the lock)."""
    if lock is None or lock.until is None:
        return Reply.say("code_locked_for_staff")
    return Reply.say("code_locked", until=until(lock.until, utcnow(), ctx.config.timezone))


def phone_lock(ctx: Context) -> Lock | None:
    """The lock on this phone's payment answers, if any (for any of its farmers)."""
    return lock_of_phone(ctx.session, ctx.turn.phone) if ctx.turn.phone is not None else None


# --- the farmer's own PIN -----------------------------------------------------------------------


def ask_new_pin(ctx: Context, _arg: str | None = None) -> Reply:
    """NIP: after the usual check, the farmer chooses a PIN that replaces the folio digits."""
    farmer = checked_farmer(ctx, {"key": intents.SET_PIN})
    if isinstance(farmer, Reply):
        return farmer
    reply = Reply.say("pin_ask")
    reply.awaiting, reply.pending = AWAITING_NEW_PIN, {"farmer_id": farmer.id}
    return reply


def answer_new_pin(ctx: Context, pending: dict[str, Any]) -> Reply:
    farmer = choose_farmer(ctx, str(pending.get("farmer_id")))
    if farmer is None or not verification_state(ctx.session, ctx.phone, farmer.id).verified:
        return Reply.say("ok")
    pin = (ctx.turn.text or "").strip()
    problem = "pin_invalid" if not is_valid_pin(pin) else "pin_weak" if _weak(pin, farmer) else None
    if problem is not None:
        reply = Reply.say(problem)
        reply.awaiting, reply.pending = AWAITING_NEW_PIN, pending
        return reply
    set_pin(ctx.session, farmer, pin)
    return Reply.say("pin_saved")


def _weak(pin: str, farmer: Farmer) -> bool:
    """Easy to guess: one digit repeated, a run up or down, or the folio digits themselves."""
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:], strict=False)}
    return len(set(pin)) == 1 or steps in ({1}, {-1}) or pin == code_from_folio(farmer.folio)


def farmer_named_in(farmers: list[Farmer], text: str) -> Farmer | None:
    """The one farmer of a shared phone whose first name (or its nickname) the message says."""
    said = set(words_of(text))
    named = [f for f in farmers if f.name and plain(f.name).split()[0] in said]
    return named[0] if len(named) == 1 else None
