"""Upcoming trainings near the farmer, enrolment with confirmation, and cancelling."""

from __future__ import annotations

from typing import TypedDict

from bot.assistant import identity, intents, steps
from bot.assistant.turn import Context, Option, Reply
from bot.records.farmers import farmers_for_phone
from bot.records.schema import Training
from bot.records.trainings import (
    EnrolResult,
    Place,
    active_enrolments,
    cancel_enrolment,
    enrol,
    upcoming_trainings,
)
from bot.replies.catalog import render
from bot.replies.spanish import local_datetime, place


def list_trainings(ctx: Context, _arg: str | None = None) -> Reply:
    found = _place(ctx)
    if isinstance(found, Reply):
        return found  # consent first, or ask for the place
    where, area = found
    limit = 2 if ctx.turn.medium == "sms" else 3  # two SMS parts at most
    trainings = upcoming_trainings(ctx.session, area, topic=ctx.turn.entity("training_topic"), limit=limit)
    label = f" cerca de {where}" if where else ""
    if not trainings:
        return Reply.say("trainings_none", where=label)
    return Reply.say("trainings_intro", options=_enrol_options(trainings), where=label)


def _place(ctx: Context) -> tuple[str, Place] | Reply:
    """(label, Place) from what the farmer said, their location, or their record; or the reply
    that must come first."""
    municipality, state = ctx.turn.entity("municipality"), ctx.turn.entity("state")
    location = (ctx.turn.metadata or {}).get("location") or {}
    if location.get("latitude") is not None and location.get("longitude") is not None:
        label = location.get("label") or "su ubicación"
        return label, Place(latitude=float(location["latitude"]), longitude=float(location["longitude"]))
    if municipality or state:
        return municipality or state or "", Place(state=state, municipality=municipality)
    registered = ctx.turn.phone is not None and farmers_for_phone(ctx.session, ctx.turn.phone)
    if not registered or not identity.consented(ctx):
        return Reply.say("ask_place")
    farmer = identity.identify(ctx, {"key": intents.ASK_TRAININGS})
    if isinstance(farmer, Reply):
        return farmer
    return farmer.municipality, Place(state=farmer.state, municipality=farmer.municipality)


def _enrol_options(trainings: list[Training]) -> list[Option]:
    return [Option(line(t), steps.with_arg(intents.ENROL_TRAINING, t.id)) for t in trainings]


def line(training: Training) -> str:
    where = training.venue
    if training.municipality not in training.venue:
        where = f"{training.venue} ({place(training.municipality, training.state)})"
    return render(
        "training_line",
        title=training.title,
        when=local_datetime(training.starts_at, training.timezone),
        place=where,
    )


def ask_enrol(ctx: Context, training_id: str | None = None) -> Reply:
    if training_id is None:
        offered = [o for o in ctx.turn.options if o.key.startswith(f"{intents.ENROL_TRAINING}:")]
        if offered:
            return Reply.say("trainings_pick", options=offered)
        return list_trainings(ctx)
    farmer = identity.identify(ctx, {"key": intents.ENROL_TRAINING, "arg": training_id})
    if isinstance(farmer, Reply):
        return farmer
    training = ctx.session.get(Training, int(training_id)) if training_id.isdigit() else None
    if training is None or training.cancelled:
        return Reply.say("enrol_unavailable")
    return _yes_or_no("enrol_confirm", steps.ENROL_CONFIRMED, training)


def confirm_enrol(ctx: Context, training_id: str | None) -> Reply:
    if training_id is None or not training_id.isdigit():
        return Reply.say("enrol_unavailable")
    farmer = identity.identify(ctx, {"key": steps.ENROL_CONFIRMED, "arg": training_id})
    if isinstance(farmer, Reply):
        return farmer
    result = enrol(ctx.session, int(training_id), farmer.id)
    training = ctx.session.get(Training, int(training_id))
    if training is None or result is EnrolResult.UNAVAILABLE:
        return Reply.say("enrol_unavailable")
    template = {
        EnrolResult.ENROLLED: "enrolled",
        EnrolResult.ALREADY: "enrol_already",
        EnrolResult.FULL: "enrol_full",
    }[result]
    return Reply.say(template, **_training_values(training))


def ask_cancel(ctx: Context, training_id: str | None = None) -> Reply:
    farmer = identity.identify(ctx, {"key": intents.CANCEL_ENROLMENT, "arg": training_id})
    if isinstance(farmer, Reply):
        return farmer
    enrolments = active_enrolments(ctx.session, farmer.id)
    if training_id is not None:
        enrolments = [e for e in enrolments if str(e.training_id) == training_id]
    if not enrolments:
        return Reply.say("no_enrolments" if training_id is None else "cancel_not_found")
    if len(enrolments) > 1:
        options = [
            Option(line(e.training), steps.with_arg(intents.CANCEL_ENROLMENT, e.training_id))
            for e in enrolments
        ]
        return Reply.say("cancel_choose", options=options)
    return _yes_or_no("cancel_confirm", steps.CANCEL_CONFIRMED, enrolments[0].training)


def confirm_cancel(ctx: Context, training_id: str | None) -> Reply:
    if training_id is None or not training_id.isdigit():
        return Reply.say("cancel_not_found")
    farmer = identity.identify(ctx, {"key": steps.CANCEL_CONFIRMED, "arg": training_id})
    if isinstance(farmer, Reply):
        return farmer
    training = ctx.session.get(Training, int(training_id))
    if training is None or not cancel_enrolment(ctx.session, training.id, farmer.id):
        return Reply.say("cancel_not_found")
    return Reply.say("cancelled", **_training_values(training))


def _yes_or_no(template: str, step: str, training: Training) -> Reply:
    """Asks yes or no about one training; yes runs ``step`` for it."""
    options = [Option.named("yes", steps.with_arg(step, training.id)), Option.named("no", steps.DISMISS)]
    return Reply.say(template, options=options, **_training_values(training))


class TrainingValues(TypedDict):
    title: str
    when: str
    venue: str


def _training_values(training: Training) -> TrainingValues:
    return {
        "title": training.title,
        "when": local_datetime(training.starts_at, training.timezone),
        "venue": training.venue,
    }
