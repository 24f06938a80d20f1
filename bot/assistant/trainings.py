"""Upcoming trainings near the farmer, enrolment with confirmation, and cancelling."""

from __future__ import annotations

import re
from dataclasses import asdict
from difflib import get_close_matches
from typing import Any, TypedDict

from bot.assistant import identity, intents, steps
from bot.assistant.choices import pick_option, words_of
from bot.assistant.turn import SLOT_CONTEXT, Context, Option, Reply
from bot.records import news
from bot.records.farmers import farmers_for_phone
from bot.records.schema import Training
from bot.records.trainings import (
    EnrolResult,
    Match,
    Place,
    active_enrolments,
    cancel_enrolment,
    enrol,
    find_trainings,
)
from bot.records.trainings import confirm_attendance as confirm_attendance_of
from bot.records.vocabulary import TRAINING_TOPICS
from bot.replies.catalog import render
from bot.replies.spanish import local_datetime, local_day, place
from bot.text import plain

# Words of a question about trainings that name no subject ("¿hay cursos de riego?" -> "riego").
QUESTION_WORDS = frozenset(
    [
        "hay",
        "habra",
        "tienen",
        "tiene",
        "curso",
        "cursos",
        "taller",
        "talleres",
        "capacitacion",
        "capacitaciones",
        "platica",
        "platicas",
        "clase",
        "clases",
        "proximo",
        "proxima",
        "proximos",
        "proximas",
        "cuando",
        "donde",
        "algun",
        "alguna",
        "algo",
        "cerca",
        "aqui",
        "mi",
        "zona",
        "ir",
        "quiero",
        "kiero",
        "inscribirme",
        "inscribir",
        "apuntarme",
        "apunto",
        "apuntame",
        "anotarme",
        "anoteme",
        "inscribeme",
        "cancelar",
        "cancela",
        "ya",
        "no",
        "voy",
        "puedo",
        "poder",
        "dar",
        "baja",
        "sobre",
        "tema",
        "temas",
    ]
)


def subject_words(ctx: Context) -> list[str]:
    """The words of the question that may name a training's subject or title."""
    place_words = set(
        words_of(" ".join(filter(None, (ctx.turn.entity("municipality"), ctx.turn.entity("state")))))
    )
    return [
        word
        for word in words_of(ctx.turn.text)
        if len(word) >= 4 and word not in place_words and not _question_word(word)
    ]


def named_subject(ctx: Context) -> str | None:
    """The subject a question names after "de", "sobre" or "para" ("talleres de apicultura"),
    so that a stray word ("oiga", "juan") is never taken for one."""
    words = subject_words(ctx)
    said = re.findall(r"[a-z0-9ñ]+", plain(ctx.turn.text))
    for before, word in zip(said, said[1:], strict=False):
        if before in ("de", "sobre", "para") and word in words:
            return word
    return None


def _question_word(word: str) -> bool:
    """One of QUESTION_WORDS, typos included ("capasitaciones")."""
    return word in QUESTION_WORDS or bool(get_close_matches(word, QUESTION_WORDS, n=1, cutoff=0.8))


# Sessions per page: by SMS two (with the intro and "MAS" they fit two parts), else three.
PAGE_SMS, PAGE_OTHER = 2, 3


def list_trainings(ctx: Context, _arg: str | None = None) -> Reply:
    found_place = _place(ctx)
    if isinstance(found_place, Reply):
        return found_place  # consent first, or ask for the place
    where, area = found_place
    search = {
        "where": where,
        "place": asdict(area),
        "topic": ctx.turn.entity("training_topic"),
        "words": subject_words(ctx),
        "named": named_subject(ctx),
    }
    return _page(ctx, search, 0)


def more_trainings(ctx: Context, _arg: str | None = None) -> Reply:
    """ "MAS": the next page of the list just shown, with the same search."""
    context = ctx.turn.slots.get(SLOT_CONTEXT) or {}
    search, offset = context.get("search"), context.get("more")
    if not search or offset is None:
        return Reply.say("trainings_no_more")
    return _page(ctx, search, int(offset))


def _page(ctx: Context, search: dict[str, Any], offset: int) -> Reply:
    """One page of the trainings a search finds, from ``offset``; "MAS" when more are found."""
    size = PAGE_SMS if ctx.turn.medium == "sms" else PAGE_OTHER
    area, topic, words, named = Place(**search["place"]), search["topic"], search["words"], search["named"]
    found = find_trainings(
        ctx.session, area, topic, words, offset + size + 1, named_subject=named is not None
    )
    shown = found.trainings[offset : offset + size]
    if offset and not shown:
        return Reply.say("trainings_no_more")
    subject = named or (TRAINING_TOPICS.get(topic, topic) if topic else words[0] if words else "")
    template = {
        Match.NEAR: "trainings_intro",
        Match.FARTHER: "trainings_farther",
        Match.OTHER_SUBJECTS: "trainings_other_subjects",
        Match.NONE: "trainings_none",
    }[found.match]
    reply = Reply.say(
        template,
        options=_enrol_options(shown, ctx.turn.medium == "sms"),
        where=f" cerca de {search['where']}" if search["where"] else "",
        subject=subject,
    )
    more = len(found.trainings) > offset + size
    reply.footer = render("trainings_more") if more else None
    reply.remember[SLOT_CONTEXT] = {
        "skill": intents.ASK_TRAININGS,
        "training_topic": topic,
        "municipality": area.municipality,
        "state": area.state,
        "search": search,
        "more": offset + size if more else None,
    }
    return reply


def my_enrolments(ctx: Context, _arg: str | None = None) -> Reply:
    """ "¿Cuándo es mi curso?": the farmer's own upcoming enrolments."""
    farmer = identity.identify(ctx, {"key": intents.ASK_MY_ENROLMENTS})
    if isinstance(farmer, Reply):
        return farmer
    enrolments = active_enrolments(ctx.session, farmer.id)
    if not enrolments:
        reply = Reply.say("no_enrolments")
    else:
        lines = "\n".join(line(e.training, ctx.turn.medium == "sms") for e in enrolments)
        reply = Reply.say("my_enrolments", count=len(enrolments), lines=lines)
    reply.remember[SLOT_CONTEXT] = {"skill": intents.ASK_TRAININGS}  # "¿y cuál es el próximo?"
    return reply


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
    declined = not identity.consented(ctx) and not identity.never_asked(ctx)
    if not registered or declined:
        return Reply.say("ask_place")  # a known farmer never asked gets the notice, then their town
    farmer = identity.identify(ctx, {"key": intents.ASK_TRAININGS})
    if isinstance(farmer, Reply):
        return farmer
    return farmer.municipality, Place(state=farmer.state, municipality=farmer.municipality)


def _enrol_options(trainings: list[Training], brief: bool = False) -> list[Option]:
    return [Option(line(t, brief), steps.with_arg(intents.ENROL_TRAINING, t.id)) for t in trainings]


def line(training: Training, brief: bool = False, day_only: bool = False) -> str:
    """One session as a farmer reads it; ``brief`` (SMS, where the question already named the
    place) leaves out the venue, ``day_only`` the hour too (a long list to pick from by SMS)."""
    when = local_datetime(training.starts_at, training.timezone)
    if day_only:
        return render(
            "training_line_sms", title=training.title, when=local_day(training.starts_at, training.timezone)
        )
    if brief:
        return render("training_line_sms", title=training.title, when=when)
    where = training.venue
    if training.municipality not in training.venue:
        where = f"{training.venue} ({place(training.municipality, training.state)})"
    return render("training_line", title=training.title, when=when, place=where)


def ask_enrol(ctx: Context, training_id: str | None = None) -> Reply:
    """Enrol: in the training named by its number, by order, day or words of its title
    ("el de riego", "el del 29", "el primero"), from the list just offered or the search."""
    if training_id is None:
        offered = [o for o in ctx.turn.options if o.key.startswith(f"{intents.ENROL_TRAINING}:")]
        chosen = pick_option(offered, ctx.turn.text)
        if chosen is not None:
            return ctx.run(chosen.key)
        if len(offered) == 1 and not subject_words(ctx):
            return ctx.run(offered[0].key)  # "apúnteme a ese": the one on offer
        if offered and not subject_words(ctx):
            return Reply.say("trainings_pick", options=offered)
        return _enrol_by_subject(ctx)
    farmer = identity.identify(ctx, {"key": intents.ENROL_TRAINING, "arg": training_id})
    if isinstance(farmer, Reply):
        return farmer
    training = ctx.session.get(Training, int(training_id)) if training_id.isdigit() else None
    if training is None or training.cancelled:
        return Reply.say("enrol_unavailable")
    return _yes_or_no("enrol_confirm", steps.ENROL_CONFIRMED, training)


def _enrol_by_subject(ctx: Context) -> Reply:
    """ "Me apunto al de riego" with no list on offer: the one near training on that subject is
    confirmed; several are listed; none gives the list of trainings."""
    listing = list_trainings(ctx)
    enrol_options = [o for o in listing.options if o.key.startswith(f"{intents.ENROL_TRAINING}:")]
    if enrol_options and subject_words(ctx) and _one_title(ctx, enrol_options):
        return ctx.run(enrol_options[0].key)  # the soonest session of the one training named
    return listing


def _one_title(ctx: Context, options: list[Option]) -> bool:
    """Whether the options are all sessions of one training (the same title on other dates)."""
    ids = [int(o.key.partition(":")[2]) for o in options]
    titles = {t.title for t in (ctx.session.get(Training, i) for i in ids) if t is not None}
    return len(titles) == 1


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
    said = Reply.say(template, **_training_values(training))
    if result is EnrolResult.ENROLLED and not news.was_asked(ctx.session, ctx.phone):
        return said.then(_ask_news())
    return said


def _ask_news() -> Reply:
    """Asked once, after the farmer's first enrolment: news of new sessions near them is a
    voluntary purpose of its own (bot/records/news.py)."""
    options = [Option.named("yes", steps.NEWS_YES), Option.named("no", steps.NEWS_NO)]
    return Reply.say("news_ask", options=options)


def news_yes(ctx: Context, _arg: str | None = None) -> Reply:
    news.record_choice(ctx.session, ctx.phone, True)
    return Reply.say("news_yes")


def news_no(ctx: Context, _arg: str | None = None) -> Reply:
    news.record_choice(ctx.session, ctx.phone, False)
    return Reply.say("news_no")


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
        sms = ctx.turn.medium == "sms"
        options = [
            Option(
                line(e.training, sms, day_only=sms and len(enrolments) > 2),  # two SMS parts at most
                steps.with_arg(intents.CANCEL_ENROLMENT, e.training_id),
            )
            for e in enrolments
        ]
        chosen = pick_option(options, ctx.turn.text)  # "ya no voy a poder ir al de riego"
        return ctx.run(chosen.key) if chosen else Reply.say("cancel_choose", options=options)
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


def confirm_attendance(ctx: Context, arg: str | None) -> Reply:
    """A reminder's "1" (or "sí"): the farmer it was for (``arg``: "training id:farmer id", set by
    the reminder itself, bot/assistant/notices.py) will go. Only a farmer of this phone."""
    training_id, _, farmer_id = (arg or "").partition(":")
    if not (training_id.isdigit() and farmer_id.isdigit()):
        return Reply.say("attendance_not_found")
    if int(farmer_id) not in {f.id for f in farmers_for_phone(ctx.session, ctx.phone)}:
        return Reply.say("attendance_not_found")
    enrolment = confirm_attendance_of(ctx.session, int(training_id), int(farmer_id))
    if enrolment is None:
        return Reply.say("attendance_not_found")
    return Reply.say("attendance_confirmed", **_training_values(enrolment.training))


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
