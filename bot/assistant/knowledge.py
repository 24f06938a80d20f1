"""Why, in plain words, and the program's how-tos.

An explanation says what a rejection cause, hold reason, invoice status or term means and what
the farmer can do, from the program's explanations (sourced, edited by staff). It is asked for
directly ("qué es daño mecánico") or right after an answer that mentioned a reason ("¿por qué?").
A how-to comes from the program's FAQ; a question it does not cover, or whose answer staff have
not filled in yet, goes to a person with the question attached, and the farmer is told so.
"""

from __future__ import annotations

from bot.assistant import intents, steps
from bot.assistant.conversation import human_request
from bot.assistant.turn import SLOT_CONTEXT, Context, Option, Reply
from bot.nlu.numbers import parse_calibre
from bot.records.knowledge import explanation_by_code, explanation_for, faq_for, placeholders
from bot.records.schema import Explanation
from bot.replies.catalog import OPTION_LABELS, render

SMS_ROOM = 290  # characters left for an explanation within two SMS parts


def explain_options(reasons: list[tuple[str, str]]) -> list[Option]:
    """'Qué significa: daño mecánico' for each (code, label) an answer mentioned, two at most."""
    return [
        Option(f"{OPTION_LABELS['explain']}: {label}", steps.with_arg(steps.EXPLAIN, code))
        for code, label in reasons[:2]
    ]


def ask_explanation(ctx: Context, code: str | None = None) -> Reply:
    entry = _asked(ctx, code)
    if entry is None:
        return Reply.say("explanation_which")
    reply = _explain(entry)
    calibre = parse_calibre(ctx.turn.text) if entry.code == "calibre" and code is None else None
    if calibre is not None:  # "¿qué quiere decir calibre 48?": "¿y cuánto pesa uno de esos?" follows
        reply.remember[SLOT_CONTEXT]["calibre"] = f"calibre {calibre}"
    return reply


def _asked(ctx: Context, code: str | None) -> Explanation | None:
    """The entry named by the option, by the message's words, or the reason just mentioned."""
    if code:
        return explanation_by_code(ctx.session, code)
    named = explanation_for(ctx.session, ctx.turn.text)
    if named is not None:
        return named
    mentioned = (ctx.turn.slots.get(SLOT_CONTEXT) or {}).get("reasons") or []
    return explanation_by_code(ctx.session, mentioned[0]) if mentioned else None


def _explain(entry: Explanation) -> Reply:
    """The explanation and what to do, in one message when it fits two SMS parts; otherwise
    the explanation first and what to do as an option."""
    head = render("explanation", title=entry.title, explanation=entry.explanation)
    todo = render("explanation_todo", what_to_do=entry.what_to_do)
    if len(head) + len(todo) + 1 <= SMS_ROOM:
        reply = Reply(messages=[f"{head} {todo}"])
    else:
        reply = Reply(
            messages=[head],
            options=[Option.named("what_to_do", steps.with_arg(steps.WHAT_TO_DO, entry.code))],
        )
    reply.remember[SLOT_CONTEXT] = {"skill": intents.ASK_EXPLANATION, "reasons": [entry.code]}
    return reply


def what_to_do(ctx: Context, code: str | None) -> Reply:
    """What the farmer can do about the cause the option names, or the message's words name."""
    entry = _asked(ctx, code)
    if entry is None:
        return Reply.say("explanation_which")
    return Reply.say("explanation_todo", what_to_do=entry.what_to_do)


def rejected_what_to_do(ctx: Context, reason: str) -> Reply:
    """ "¿Entonces la vuelvo a hacer?" about a rejected invoice: what rejected means, and what to
    do about its reason."""
    status, entry = (
        explanation_by_code(ctx.session, "status_rejected"),
        explanation_by_code(ctx.session, reason),
    )
    if status is None or entry is None:
        return what_to_do(ctx, reason)
    todo = render("explanation_todo", what_to_do=entry.what_to_do)
    return Reply(messages=[f"{status.explanation} {todo}"])


def ask_howto(ctx: Context, _arg: str | None = None) -> Reply:
    entry = faq_for(ctx.session, ctx.turn.text)
    if entry is not None and not placeholders(entry.answer):
        return Reply(messages=[entry.answer])
    context = ctx.turn.slots.get(SLOT_CONTEXT) or {}
    if entry is None and context.get("skill") == intents.ASK_EXPLANATION and context.get("reasons"):
        return what_to_do(ctx, context["reasons"][0])  # "¿cómo la evito?" after an explanation
    request, _new = human_request(ctx, reason="question")
    return Reply.say("howto_to_staff", ref=f"S-{request.id:05d}")
