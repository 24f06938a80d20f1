"""Who is writing, and may we use their data: consent, shared phones, the second check."""

from __future__ import annotations

from typing import Any

from bot.assistant import steps
from bot.assistant.turn import SLOT_FARMER, Context, Option, Reply
from bot.records.farmers import farmer_for_phone, farmers_for_phone
from bot.records.privacy import (
    CheckResult,
    check_code,
    has_consented,
    latest_consent,
    record_consent,
    verification_state,
)
from bot.records.schema import Farmer
from bot.replies.spanish import short_name

CONTROLLER = "El programa Pequeño Productor"


def privacy_notice(ctx: Context, pending: dict[str, Any] | None) -> Reply:
    reply = Reply.say(
        "privacy_notice",
        options=[Option.named("accept", steps.CONSENT_YES), Option.named("no", steps.CONSENT_NO)],
        controller=CONTROLLER,
        notice_url=ctx.config.privacy_notice_url,
    )
    reply.pending = pending
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
    reply = Reply.say(
        "choose_farmer",
        options=[Option(short_name(f.name), steps.with_arg(steps.FARMER_CHOSEN, f.id)) for f in farmers],
    )
    reply.pending = pending
    return reply


def choose_farmer(ctx: Context, farmer_id: str | None) -> Farmer | None:
    """The chosen farmer, checked again against the phone (ids in slots are never trusted)."""
    if ctx.turn.phone is None or not (farmer_id or "").isdigit():
        return None
    return farmer_for_phone(ctx.session, ctx.turn.phone, int(farmer_id or 0))


def require_check(ctx: Context, farmer: Farmer, pending: dict[str, Any]) -> Reply | None:
    """None when payment data may be shown; otherwise the question (or lock) to send."""
    state = verification_state(ctx.session, ctx.phone, farmer.id)
    if state.locked:
        return Reply.say("code_locked", minutes=ctx.config.verification_lock_minutes)
    if state.verified:
        return None
    reply = Reply.say("ask_code")
    reply.awaiting = "verification"
    reply.pending = {**pending, "farmer_id": farmer.id}
    return reply


def answer_check(ctx: Context, pending: dict[str, Any]) -> Reply | None:
    """None when the code was right (the pending request may go on), else the reply to send."""
    farmer = choose_farmer(ctx, str(pending.get("farmer_id")))
    if farmer is None:
        return Reply.say("ok")
    outcome = check_code(ctx.session, ctx.phone, farmer, ctx.turn.text, ctx.config)
    if outcome.result is CheckResult.LOCKED:
        return Reply.say("code_locked", minutes=ctx.config.verification_lock_minutes)
    if outcome.result is CheckResult.WRONG:
        reply = Reply.say("code_wrong", left=outcome.attempts_left)
        reply.awaiting, reply.pending = "verification", pending
        return reply
    return None
