"""Where a turn goes besides the intent the NLU gave it.

The NLU reads one message alone; these rules read it with what was just said (the options on
offer, the last answer's topic) and with the words that settle a question whatever the NLU
thought: a yes on a yes-or-no question, an invoice folio, "¿qué es …?" naming a term the
program explains, a general "¿cuánto tardan en pagar?" the FAQ answers, a file.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from bot.assistant import (
    conversation,
    follow_up,
    identity,
    intents,
    invoice_refs,
    payments,
    standards,
    steps,
)
from bot.assistant.choices import NO_WORDS, THUMBS_UP, YES_WORDS, pick_option, words_of
from bot.assistant.turn import MAIN_MENU, SLOT_AWAITING, SLOT_CONTEXT, Context
from bot.nlu.dates import month_asked, year_asked
from bot.nlu.numbers import parse_grams
from bot.opt_words import OPT_OUT_SENTENCE
from bot.records.knowledge import explanation_for, faq_for
from bot.records.schema import FaqEntry
from bot.text import MONTH_NAMES, plain
from bot.timeutil import local_today

# Words that name a topic. A follow-up ("y …", "¿y …?") that names none of its intent's topic
# stays on the last answer's topic; one that names it moves there.
TOPIC_WORDS: dict[str, re.Pattern[str]] = {
    intents.ASK_PAYMENT_STATUS: re.compile(
        r"pag|cobr|deposit|factur|\bf ?-?\d{6}|feria|dinero|lana|retenid|detenid|me deben|liquid"
    ),
    intents.ASK_TRAININGS: re.compile(r"curso|taller|capacita|platica|inscri|apunt|clase"),
    intents.ASK_QUALITY_STANDARD: re.compile(
        r"calidad|requisit|piden|minimo|norma|color|madur|inocu|certific|extra|primera|segunda|revisan"
    ),
    intents.ASK_AVOCADO_SIZE: re.compile(r"calibre|gramo|\bgr?\b|\bpesa[rn]?\b|\bpeso\b|caja"),
    intents.ASK_DELIVERIES: re.compile(r"entreg|rechaz|descont|rebaj|kilo|\bkg\b|acopio|pesaron"),
    intents.ASK_EXPLANATION: re.compile(r"\bque es\b|significa|quiere decir"),
}
# Which topic a message the NLU could not place is about, when its words name several.
TOPIC_ORDER = (
    intents.ASK_EXPLANATION,
    intents.ASK_QUALITY_STANDARD,
    intents.ASK_AVOCADO_SIZE,
    intents.ASK_TRAININGS,
    intents.ASK_PAYMENT_STATUS,
    intents.ASK_DELIVERIES,
)
TRAINING_INTENTS = frozenset({intents.ASK_TRAININGS, intents.ENROL_TRAINING, intents.ASK_MY_ENROLMENTS})
TOPIC_WORDS[intents.ASK_PAYMENT_HISTORY] = TOPIC_WORDS[intents.ASK_PAYMENT_STATUS]
TOPIC_WORDS[intents.ENROL_TRAINING] = TOPIC_WORDS[intents.ASK_TRAININGS]
TOPIC_WORDS[intents.ASK_MY_ENROLMENTS] = TOPIC_WORDS[intents.ASK_TRAININGS]

# Words that point back at the last answer: "¿de cuánto es esa?", "¿y eso?".
REFERS_BACK = frozenset({"esa", "ese", "eso", "esas", "esos", "otra", "otro", "misma", "mismo"})
MENU_WORDS = frozenset({"menu", "ayuda", "opciones", "inicio", "help"})
# "¿Qué es …?" asks for an explanation when the program explains the term named.
WHAT_IS = re.compile(
    r"^\W*(?:(?:oiga|oye|y|pero|entonces|bueno|ok|ah)\W+)*(?:que|q|k)\s+(?:es|son)\b"
    r"|\b(?:que|q|k)\s+(?:es|son)\W*$"  # "¿y la antracnosis esa qué es?"
)
MEANS = re.compile(r"\b(?:que|q|k)\s+(?:significa|quiere decir)\b|\bsignifica\b")
# A general question about how the program works, not about the farmer's own records: always
# (how long payment takes), or when it is not about "me"/"mi" (may I, what time).
ALWAYS_GENERAL = re.compile(
    r"\b(?:normalmente|en general|por lo general|cuanto (?:se )?tardan|en cuantos dias|"
    r"cuantos dias (?:tardan|se tardan)|(?:que )?tanto se tardan|se tardan (?:meses|semanas|mucho)|"
    r"(?:la paga|el pago) es rapid[oa])\b"
)
GENERAL = re.compile(r"\b(?:puedo|se puede|a que hora|que horario)\b")
# "¿Por dónde se entrega el xml?": where or how, asked of the program.
WHERE_OR_HOW = re.compile(r"\b(?:por donde|donde|como)\b")
# Bank details are a how-to (changing them goes through the program), never shown in chat.
BANK = re.compile(r"\b(?:cuenta|banco|clabe)\b")
# Intents that say little about the topic: the words decide.
UNSURE = frozenset(
    {intents.ASK_EXPLANATION, intents.NLU_FALLBACK, intents.OUT_OF_SCOPE, intents.FOLLOW_UP, intents.HELP}
)
DEPOSIT_MADE = re.compile(r"referencia|lleg|cay|caido|depositaron|mandaron|pagaron")
SOCIAL = frozenset({intents.AFFIRM, intents.DENY, intents.GREET, intents.GOODBYE, intents.THANK})
# How a yes that says more begins ("sale pues, ahí me pone", "ándale, apúnteme").
YES_STARTERS = frozenset(
    {"si", "sip", "claro", "sale", "simon", "andale", "orale", "va", "ok", "okey", "dale"}
)
FIRST_PERSON = frozenset({"me", "mi", "mis", "yo", "mio", "mia"})
# Money words that make a question about a delivery one about its payment ("¿cuánta feria me
# toca de la última entrega?").
MONEY = re.compile(r"feria|dinero|lana|\bpag|\bdeposit|cuanto me (?:toca|dan|van)|me toca|factur")
# A card, a CLABE or an account number (a phone number has 10 digits: only beside bank words).
ACCOUNT_NUMBER = re.compile(
    r"(?<!\d)(?:\d[ -]?){15,17}\d(?!\d)|(?:cuenta|clabe|tarjeta|banco).*(?<!\d)\d{10,11}(?!\d)"
)
# What makes a question naming a folio one about its delivery's kilos rather than its payment.
DELIVERY_DETAIL = re.compile(r"rechaz|kilo|\bkg\b|fruta|regres|calibre")
KILO_WORDS = re.compile(r"kilo|\bkg\b|fruta|regres")
# "¿Y una de agosto que me rechazaron?" after invoices were shown: one of them, by its month.
ONE_OF_A_MONTH = re.compile(rf"\b(?:una|la|esa|otra) (?:factura )?de (?:{'|'.join(MONTH_NAMES)})\b")
# "¿Y la otra que dice rechazada?": the farmer's own invoice in that status.
OTHER_INVOICE = re.compile(
    r"\blas? otras? (?:(?:que|q) (?:dice|dicen|esta|estan|salio|sale) )?(?:rechazad|retenid|detenid)"
)
# "¿Cuánto me salió de extra?": the grades of the farmer's own delivery, not the requirement.
OWN_GRADE = re.compile(r"\bcuant\w* (?:me |le )?sali\w* de (?:extra|primera|segunda)")
WHY_ANYWHERE = re.compile(r"\b(?:por ?que|porque|xq|pq|x ?q)\b")
# Words about fruit sizes that make "el 60" a calibre.
CALIBRE_TALK = re.compile(r"calibre|chic|grand|\bpesa|\bpeso\b|compra|caja|taman")
GRAMS = re.compile(r"\b\d{2,4}\s*(?:g|gr|grs|gramos)\b")  # a fruit's weight, never kilos delivered
ASKS_WHEN = re.compile(r"\b(?:(?:que|q|k) (?:fecha|dia)|cuando)\b")
SHORT = 5  # words: a message this short, right after an answer, usually follows on from it
# "MAS", "más", "ver más": the next page of a list that said so.
MORE = re.compile(r"^\W*(?:ver |quiero ver )?mas\W*$")
# "Bórreme", "sáqueme de la lista": a seat given back, whatever the NLU said.
CANCEL_WORDS = re.compile(
    r"\b(?:borreme|borrame|quiteme|quitame|saqueme|sacame|me (?:borra|quita|saca) de)\b"
)
# "¿a cuál quedé?", "mis cursos": the farmer's own enrolments, not the program's sessions.
OWN_ENROLMENT = re.compile(
    r"\b(?:mis|mi curso|mi taller|quede|inscri\w*|apunt\w*|anot\w*|me toca|voy a ir|voy|estoy)\b"
)
MY_ENROLMENTS = re.compile(
    r"\b(?:a (?:que|q|cuales?) (?:cursos?|talleres?|capacitaciones?|platicas?) (?:voy|estoy|me inscribi|quede)"
    r"|en cuales (?:estoy|quede)|mis (?:cursos|talleres|capacitaciones|platicas))\b"
)
# "¿Ese sí lo compran?" after a calibre: whether the program buys it.
BUYS = re.compile(r"\b(?:compran|pagan|reciben|aceptan)\b")
# The program's news (new trainings, broadcasts), a voluntary purpose: stopped or asked for in
# words at any time ("NO NOTICIAS", "ya no quiero noticias" / "sí quiero noticias"); BAJA stops
# every message, these only the news.
NEWS_STOP = re.compile(
    r"\b(?:no|sin)\s+(?:quiero\s+(?:recibir\s+)?|me\s+(?:manden|envien)\s+)?(?:las\s+|mas\s+)?noticias\b"
)
NEWS_START = re.compile(
    r"^\W*(?:si\s+)?(?:quiero|mandenme|envienme)\s+(?:recibir\s+)?(?:las\s+)?noticias\b|^\W*noticias\s+si\b"
)
# The words of the privacy notice for taking consent back: always a revocation.
REVOKE = re.compile(r"^\W*revoco\b|\b(?:borr|elimin)\w* (?:mis|todos mis) datos\b")


def routed(ctx: Context, intent: str) -> str:
    """The skill that answers this turn: what the message settles by itself first, then what
    follows on from the last answer, then the words when the NLU's intent names none of its own."""
    text = plain(ctx.turn.text)
    context = ctx.turn.slots.get(SLOT_CONTEXT) or {}
    faq = functools.cache(lambda: faq_for(ctx.session, text))  # read once a turn, when needed
    settled = _settled(ctx, text, intent, faq)
    if settled is not None:
        return settled
    if context and _follows_on(ctx, text, intent, context):
        return intents.FOLLOW_UP
    return _by_words(ctx, text, intent, faq)


def _settled(ctx: Context, text: str, intent: str, faq: Callable[[], FaqEntry | None]) -> str | None:
    """What the message's own form decides, whatever the NLU said."""
    if conversation.is_number_reply(ctx.turn.text):
        return intents.INFORM_NUMBER
    if ctx.turn.slots.get(SLOT_AWAITING) == identity.AWAITING_CODE and (
        follow_up.bare_why(text) or identity.without_code(text)
    ):
        return steps.CHECK_WHY  # "¿y por qué?", "no tengo mi credencial": why, and what to do
    if conversation.farmer_choices(ctx) and follow_up.bare_why(text):
        return steps.WHO_WHY  # "¿y eso pq?" after "¿Quién pregunta?"
    if ctx.turn.metadata.get("media"):
        return intents.SEND_MEDIA
    if ACCOUNT_NUMBER.search(text):
        return steps.ACCOUNT_NUMBER  # "le paso la clabe? es 0121…": never in a chat
    if MORE.match(text) and "more" in (ctx.turn.slots.get(SLOT_CONTEXT) or {}):  # a list was paged
        return steps.MORE
    if NEWS_STOP.search(text):  # "sí quiero noticias" names what the yes is to
        return steps.NEWS_NO
    if NEWS_START.search(text):
        return steps.NEWS_YES
    yes_or_no = _yes_or_no(ctx, text)
    if yes_or_no is not None:
        return yes_or_no
    if REVOKE.search(text):
        return intents.REVOKE_CONSENT
    if OPT_OUT_SENTENCE.search(text):  # where no channel took it first (REST, shell): say how
        return steps.STOP_MESSAGES
    if CANCEL_WORDS.search(text):
        return intents.CANCEL_ENROLMENT
    if not re.search(r"[a-z0-9]", text):  # "?", "🙏🙏": nothing to go on but the menu
        return intents.HELP
    context = ctx.turn.slots.get(SLOT_CONTEXT) or {}
    asks_what = WHAT_IS.search(text) or MEANS.search(text)  # "¿qué es …?", "eso q significa"
    if invoice_refs.folio_named(text, bare=invoice_refs.about_payments(context)) and (
        intent not in (intents.ASK_EXPLANATION, intents.ASK_DELIVERIES)
        or not (asks_what or DELIVERY_DETAIL.search(text))
    ):
        return intents.ASK_PAYMENT_STATUS  # "la f 425 493 xq está detenida", "¿y la 570 811?"
    by_amount = intent != intents.ASK_PAYMENT_HISTORY and invoice_refs.amount_named(text) is not None
    if by_amount or OTHER_INVOICE.search(text):
        return intents.ASK_PAYMENT_STATUS  # "la de 64 mil", "¿y la otra que dice rechazada?"
    rejected_then = "rechaz" in text and ONE_OF_A_MONTH.search(text) and not KILO_WORDS.search(text)
    if intent == intents.ASK_DELIVERIES and invoice_refs.about_payments(context) and rejected_then:
        return intents.ASK_PAYMENT_STATUS  # "¿y una de agosto que me rechazaron?" after payments
    if OWN_GRADE.search(text):
        return intents.ASK_DELIVERIES
    if GRAMS.search(text) and intent not in (intents.ASK_QUALITY_STANDARD, intents.FOLLOW_UP):
        return intents.ASK_AVOCADO_SIZE
    if year_asked(text, local_today(ctx.config.timezone)) and topic_named(text) in (
        None,
        intents.ASK_PAYMENT_STATUS,
    ):
        return intents.ASK_PAYMENT_HISTORY  # "¿y sumando el año entero?": the year's payments
    if intent in UNSURE | {intents.ASK_HOWTO, intents.INFORM_NUMBER} and _asks_the_program(ctx, text, faq):
        return intents.ASK_HOWTO  # "¿y a qué número les marco?", "¿y el xml por dónde se entrega?"
    if MY_ENROLMENTS.search(text) or (intent == intents.ASK_MY_ENROLMENTS and OWN_ENROLMENT.search(text)):
        return intents.ASK_MY_ENROLMENTS  # "¿y ahorita en cuáles estoy?": the farmer's own
    if intent == intents.INFORM_NUMBER:  # read as a number, but says more: "¿y uno de 250?"
        return intents.FOLLOW_UP
    # "¿y xq me rechazaron esos 23 kilos? dice calibre fuera de rango": why, naming the reason
    why = intent == intents.ASK_EXPLANATION and WHY_ANYWHERE.search(text)
    if (asks_what or why) and explanation_for(ctx.session, text) is not None:
        return intents.ASK_EXPLANATION
    if _calibre_asked(ctx, text, intent, context):
        return intents.ASK_AVOCADO_SIZE  # "el 70 ¿sí me lo compran?", "¿y el 60 qué es?"
    if ALWAYS_GENERAL.search(text) and faq():
        return intents.ASK_HOWTO
    if follow_up.asks_how(text) and faq() is None and explanation_for(ctx.session, text) is not None:
        return steps.WHAT_TO_DO  # "¿qué hago pa que no se me meta la plaga?"
    if _picks_an_option(ctx, text):
        return intents.FOLLOW_UP  # "el de la poda cuándo es", "la segunda": an option on offer
    return None


def _calibre_asked(ctx: Context, text: str, intent: str, context: dict) -> bool:
    """A calibre of the table named as a number ("el 70", "los de 84", "pa que sea 48") about
    fruit sizes: in words about sizes, or right after an answer about them."""
    reasons = context.get("reasons") or []
    about_sizes = context.get("skill") == intents.ASK_AVOCADO_SIZE or "calibre" in context
    about_sizes = about_sizes or bool({"size_out_of_range", "calibre"} & set(reasons))
    if intent in TRAINING_INTENTS and not about_sizes:
        return False
    return (about_sizes or CALIBRE_TALK.search(text) is not None) and standards.calibre_named(ctx) is not None


def _asks_the_program(ctx: Context, text: str, faq: Callable[[], FaqEntry | None]) -> bool:
    """A question the FAQ answers, not about the farmer's own records."""
    if FIRST_PERSON & set(text.split()) or _names_a_place(ctx):
        return False
    return bool(WHERE_OR_HOW.search(text) or len(text.split()) > 2) and faq() is not None


def _picks_an_option(ctx: Context, text: str) -> bool:
    """A short message that names one of the options of a list just given (not the main menu,
    which is answered by its digits: "¿cuál fue mi último pago?" is not its last option)."""
    options = ctx.turn.options
    if not options or {o.key for o in options} == {o.key for o in MAIN_MENU}:
        return False
    if re.search(r"\d", text):
        return False  # "¿y uno de 120?": a value, not a choice (a number alone is handled above)
    chosen = pick_option(options, text) if len(words_of(text)) <= 4 else None
    named = topic_named(text)  # "¿y esa última ya me la pagaron?" is no "last option" to explain
    return chosen is not None and (
        named is None or TOPIC_WORDS[named].search(plain(chosen.label)) is not None
    )


def _by_words(ctx: Context, text: str, intent: str, faq: Callable[[], FaqEntry | None]) -> str:
    """The NLU's intent, unless the words say otherwise: a how-to the FAQ does not hold, or a
    topic intent none of whose words are there, goes to the topic the words name."""
    if BANK.search(text) and intent != intents.ASK_EXPLANATION:
        return intents.ASK_HOWTO
    if GENERAL.search(text) and not FIRST_PERSON & set(text.split()) and faq():
        return intents.ASK_HOWTO
    if intent == intents.ASK_DELIVERIES and WHERE_OR_HOW.search(text) and _asks_the_program(ctx, text, faq):
        return intents.ASK_HOWTO  # "¿y el xml por dónde se entrega?": the program's how-to
    if GENERAL.search(text) and text.split()[0] in ("puedo", "se") and intent != intents.ASK_HOWTO:
        return intents.ASK_HOWTO  # "¿puedo entregar también limón?": the FAQ, or a person
    if intent == intents.ASK_DELIVERIES and MONEY.search(text):
        return intents.ASK_PAYMENT_STATUS
    if intent == intents.ASK_PAYMENT_STATUS and DEPOSIT_MADE.search(text) and _names_a_month(ctx, text):
        return intents.ASK_PAYMENT_HISTORY  # "¿este mes qué me ha caído?": what was paid then
    if intent == intents.ASK_PAYMENT_STATUS and payments.asks_unpaid(text):
        return intents.ASK_PAYMENT_HISTORY  # "¿quedó algo colgado?": what is still to be paid
    if intent == intents.ASK_MY_ENROLMENTS and not OWN_ENROLMENT.search(text):
        return intents.ASK_TRAININGS  # "¿qué talleres van a dar aquí?": the sessions on offer
    if (
        intent == intents.ASK_PAYMENT_STATUS
        and ctx.turn.entity("grade")
        and not invoice_refs.folio_named(text)
    ):
        return intents.ASK_QUALITY_STANDARD  # "¿manchitas leves me la pagan de extra?": a grade
    if intent == intents.HELP and not MENU_WORDS & set(text.split()) and len(text.split()) > 4:
        intent = intents.ASK_HOWTO
    unplaced = intent in (intents.NLU_FALLBACK, intents.OUT_OF_SCOPE)
    if unplaced and _names_a_place(ctx):
        return intents.ASK_TRAININGS  # "¿y aquí en Tancítaro qué hay?": places are for trainings
    if unplaced and faq() is not None:
        return intents.ASK_HOWTO
    named = topic_named(text)
    if named == intents.ASK_PAYMENT_STATUS and payments.asks_unpaid(text):
        named = intents.ASK_PAYMENT_HISTORY  # "¿me deben algo todavía?"
    long_social = intent in SOCIAL and len(text.split()) > 3  # "y q me deben todavía" is no goodbye
    if named is None or intent in TRAINING_INTENTS:
        return intent  # a training's subject may be any word ("facturación", "calidad")
    if unplaced or long_social or (intent == intents.ASK_HOWTO and faq() is None):
        return named
    return named if _names_none_of_its_own(intent, text) else intent


def _names_a_month(ctx: Context, text: str) -> bool:
    return month_asked(text, local_today(ctx.config.timezone)) is not None


def _names_a_place(ctx: Context) -> bool:
    return bool(ctx.turn.entity("municipality") or ctx.turn.entity("state"))


def _names_none_of_its_own(intent: str, text: str) -> bool:
    """Whether a topic intent's message holds none of its topic's words ("medio kilo" is a
    fruit's weight for a calibre question)."""
    own = TOPIC_WORDS.get(intent)
    if own is None or own.search(text):
        return False
    return not (intent == intents.ASK_AVOCADO_SIZE and parse_grams(text))


def topic_named(text: str) -> str | None:
    """The first topic whose words the message holds, or None."""
    return next((topic for topic in TOPIC_ORDER if TOPIC_WORDS[topic].search(text)), None)


def _yes_or_no(ctx: Context, text: str) -> str | None:
    """A plain yes or no ("sí", "claro", "👍", "no") answers the question on offer."""
    words = re.findall(r"[a-zñ]+", text)
    if not ctx.turn.options:
        return None
    if not words and any(sign in ctx.turn.text for sign in THUMBS_UP):
        return intents.AFFIRM
    if not words:
        return None
    short = len(words) <= 3
    if short and (all(w in YES_WORDS for w in words) or words[0] in ("si", "sip", "claro")):
        return intents.AFFIRM  # "sí", "de acuerdo", "si cancélelo"
    if short and all(w in NO_WORDS for w in words):
        return intents.DENY
    return intents.AFFIRM if _yes_and_more(text, words) else None


def _yes_and_more(text: str, words: list[str]) -> bool:
    """ "Sale pues, ahí me pone en la lista": a yes that goes on without a new question or topic."""
    if words[0] not in YES_STARTERS or len(words) > 8 or "?" in text or NO_WORDS & set(words):
        return False
    return not follow_up.FOLLOW_UP_START.match(text) and topic_named(text) in (None, intents.ASK_TRAININGS)


def _follows_on(ctx: Context, text: str, intent: str, context: dict) -> bool:
    """A message that only makes sense after the last answer: "¿por qué?", "¿cómo le hago?",
    "¿de dónde sacan eso?"; one that starts like a follow-up ("y …", "ok y …") or points back
    ("esa"), or is short, and names no topic but the last answer's."""
    skill = str(context.get("skill") or "")
    reasons = context.get("reasons")
    if reasons and (follow_up.bare_why(text) or follow_up.asks_how(text)):
        return True
    if skill == intents.ASK_EXPLANATION and len(text.split()) <= 3 and explanation_for(ctx.session, text):
        return True  # "¿y retenida?" after what rejected means: that word too
    if follow_up.asks_source(text) and skill == intents.ASK_QUALITY_STANDARD:
        return True
    if _names_a_place(ctx) and skill not in TRAINING_INTENTS:
        return False
    if BANK.search(text) or "referencia" in text:  # "¿a qué cuenta llegó?": that deposit's reference
        about_payments = skill in (intents.ASK_PAYMENT_STATUS, intents.ASK_PAYMENT_HISTORY)
        return about_payments and bool(context.get("folios")) and DEPOSIT_MADE.search(text) is not None
    starts = follow_up.FOLLOW_UP_START.match(text) or REFERS_BACK & set(words_of(text) + text.split())
    short = len(text.split()) <= SHORT
    if not (starts or short):
        return False
    if short and ASKS_WHEN.search(text) and topic_named(text) is None:
        return True  # "¿qué fecha fue?", "¿y cuándo?": when the thing just named was or will be
    named = topic_named(text)
    if skill == intents.ASK_AVOCADO_SIZE and REFERS_BACK & set(text.split()) and BUYS.search(text):
        return True  # "¿y esos grandotes me los pagan?": whether the program buys that calibre
    if named is not None and TOPIC_WORDS[named] is not TOPIC_WORDS.get(skill):
        return False  # names another topic: "¿y cuánto me pagan?" after a delivery
    if intent in (intents.NLU_FALLBACK, intents.OUT_OF_SCOPE) or (starts and intent == skill):
        return True
    return _names_none_of_its_own(intent, text)  # the NLU's topic, but none of its words
