"""What the buyer requires (quality standards) and avocado Hass sizes (calibres), from the
program's reference tables, naming them as such: never "la norma oficial"."""

from __future__ import annotations

import re

from bot.assistant import intents, steps
from bot.assistant.turn import SLOT_CONTEXT, Context, Option, Reply
from bot.nlu.numbers import parse_calibre, parse_grams
from bot.records.schema import AvocadoCalibre
from bot.records.standards import calibre_table, products_with_standards, standards_for
from bot.replies.catalog import OPTION_LABELS, render
from bot.text import plain

PRODUCT_WORDS = {
    "aguacate": "aguacate",
    "aguacates": "aguacate",
    "palta": "aguacate",
    "hass": "aguacate",
    "jitomate": "jitomate",
    "jitomates": "jitomate",
    "tomate": "jitomate",
    "tomates": "jitomate",
    "saladette": "jitomate",
    "saladet": "jitomate",
}
GRADE_WORDS = (
    (r"\bextra\b|\bsuper\b", "extra"),
    (r"\bprimera\b|\bclase (?:1|i|uno)\b|\bcategoria (?:1|i|uno)\b|\bno\.? ?1\b", "primera"),
    (r"\bsegunda\b|\bclase (?:2|ii|dos)\b|\bcategoria (?:2|ii|dos)\b", "segunda"),
    (r"madur|materia seca", "madurez"),
    (r"defect|rechaz|regres|devuelv", "defectos"),
    (r"inocu|certific|globalgap|global gap|srrc|senasica", "inocuidad"),
    (r"\bcolor|rojo|rosa|rayado|quebrado|pinton", "color"),
)
EVERY_PRODUCT = "todos"  # the records' product for requirements that hold for every product
GRADE_NAMES = {
    "extra": "Extra",
    "primera": "Primera",
    "segunda": "Segunda",
    "madurez": "Madurez",
    "defectos": "Defectos",
    "inocuidad": "Inocuidad",
    "color": "Color",
    "minimos": "Mínimos",
}


def _product(ctx: Context, given: str | None) -> str | None:
    return given or product_named(ctx)


def product_named(ctx: Context) -> str | None:
    """The product the message names (entity, or a known word), in the records' spelling."""
    entity = ctx.turn.entity("product")
    if entity:
        return PRODUCT_WORDS.get(plain(entity), plain(entity))
    return next((PRODUCT_WORDS[w] for w in plain(ctx.turn.text).split() if w in PRODUCT_WORDS), None)


def _grade(ctx: Context) -> str | None:
    """The grade or aspect the message's words name, else its entity (which a follow-up may
    carry over from the last answer: "¿y de segunda?" names its own)."""
    text = plain(ctx.turn.text)
    named = next((grade for pattern, grade in GRADE_WORDS if re.search(pattern, text)), None)
    entity = ctx.turn.entity("grade")
    return named or (plain(entity) if entity else None)


def quality(ctx: Context, arg: str | None = None) -> Reply:
    """What the buyer requires for a product and grade. Whatever the answer, it remembers the
    product, so "¿y el color?" or "¿y el aguacate?" follows on from it."""
    given_product, _, given_grade = (arg or "").partition(":")
    product = _product(ctx, given_product or None)
    grade = given_grade or (None if arg else _grade(ctx))
    if product is None and grade is not None and grade in standards_for(ctx.session, EVERY_PRODUCT):
        product = EVERY_PRODUCT  # "¿piden algún certificado de inocuidad?" holds for every product
    if product is None:
        product = (ctx.turn.slots.get(SLOT_CONTEXT) or {}).get("product")  # "¿y el color?"
    reply = _quality(ctx, product, grade)
    reply.remember.setdefault(SLOT_CONTEXT, {"skill": intents.ASK_QUALITY_STANDARD, "product": product})
    return reply


def _quality(ctx: Context, product: str | None, grade: str | None) -> Reply:
    if product is None:
        options = [
            Option(OPTION_LABELS.get(p, p.capitalize()), steps.with_arg(intents.ASK_QUALITY_STANDARD, p))
            for p in products_with_standards(ctx.session)
        ]
        return Reply.say("quality_which_product", options=options)
    table = standards_for(ctx.session, product)
    if not any(s.product == product for s in table.values()):
        return Reply.say("quality_no_product", product=product)
    wanted = grade or "minimos"
    if wanted == "defectos" and wanted not in table:
        wanted = "minimos"  # "¿cómo debe ir para que no me lo regresen?": the minimum asked
    chosen = table.get(wanted)
    if chosen is None:
        return Reply.say("quality_missing", grade=GRADE_NAMES.get(wanted, wanted), product=product)
    others = [g for g in table if g not in (chosen.grade, "minimos")]
    options = [Option.named("more", steps.with_arg(steps.QUALITY_DETAIL, f"{product}:{chosen.grade}"))]
    options += [
        Option(GRADE_NAMES.get(g, g), steps.with_arg(intents.ASK_QUALITY_STANDARD, f"{product}:{g}"))
        for g in others
    ][:3]
    answer = Reply.say("quality_answer", summary=chosen.summary)
    reply = answer.then(Reply.say("quality_more", options=options))
    reply.remember[SLOT_CONTEXT] = {
        "skill": intents.ASK_QUALITY_STANDARD,
        "product": product,
        "grade": chosen.grade,
    }
    return reply


def quality_detail(ctx: Context, arg: str | None) -> Reply:
    product, _, grade = (arg or "").partition(":")
    chosen = standards_for(ctx.session, product).get(grade)
    if chosen is None:
        return Reply.say("quality_missing", grade=GRADE_NAMES.get(grade, grade), product=product)
    return Reply.say("quality_detail", details=chosen.details, source=chosen.source)


# "el 70", "los de 84", "calibre 48": a calibre said as a number (not grams, kilos, money or a day)
CALIBRE_SAID = re.compile(
    r"\b(?:calibres?|el|del|los|las|al|un|una|de|que|q|sea|sean|es|son)\s+(\d{2})\b"
    r"(?=\s*(?:$|[?,.!]|(?:si|no|q|que|lo|los|la|me|es|son|tambien|y|o|pues)\b))"
)
# "¿y los más chicos que el 60?": the calibres past that one, smaller or bigger fruit
PAST = re.compile(r"\bmas (chi[cq]|pequen|grand)\w* (?:que|q|del)\s+(?:el |los |la |calibre )?(\d{2})\b")


def calibre_named(ctx: Context) -> int | None:
    """A calibre of the program's table the message names as a number, or None."""
    said = [int(n) for n in CALIBRE_SAID.findall(plain(ctx.turn.text))]
    table = {row.calibre for row in calibre_table(ctx.session)} if said else set()
    return next((n for n in said if n in table), None)


def avocado_size(ctx: Context, _arg: str | None = None) -> Reply:
    table = calibre_table(ctx.session)
    past = PAST.search(plain(ctx.turn.text))
    if past is not None:
        return _past(table, int(past.group(2)), smaller=past.group(1) != "grand")
    weight_text = ctx.turn.entity("weight") or ctx.turn.text
    calibre_text = ctx.turn.entity("calibre")
    grams = parse_grams(weight_text) or parse_grams(ctx.turn.text) or _bare_grams(ctx)
    if grams is None and re.search(r"\d+\s*(?:kg|kilo|g\b|gr)", plain(weight_text)):
        return Reply.say("size_weight_nonsense")
    if grams is not None:
        return _reference(size_for_weight(table, grams))
    calibre = parse_calibre(calibre_text) if calibre_text else parse_calibre(ctx.turn.text)
    calibre = calibre if calibre is not None else calibre_named(ctx)  # "¿cuánto pesa pa que sea 48?"
    if calibre is not None:
        return _reference(size_for_calibre(table, calibre), calibre)
    return _remembered(Reply.say("size_intro", bought=_listing([r.calibre for r in table if r.purchased])))


FRUIT_GRAMS = range(90, 1001)  # a bare number in this range, after a size answer, is a weight


def _bare_grams(ctx: Context) -> int | None:
    """ "¿Y uno de 250?" right after a size answer: a number too big for a calibre is grams."""
    if (ctx.turn.slots.get(SLOT_CONTEXT) or {}).get("skill") != intents.ASK_AVOCADO_SIZE:
        return None
    numbers = [int(n) for n in re.findall(r"\b(\d{2,4})\b", ctx.turn.text)]
    return next((n for n in numbers if n in FRUIT_GRAMS), None)


def _past(table: list[AvocadoCalibre], calibre: int, smaller: bool) -> Reply:
    """The calibres of smaller (higher numbers) or bigger fruit than ``calibre``, and which of
    them the program buys."""
    rows = [r for r in table if (r.calibre > calibre if smaller else r.calibre < calibre)]
    if not rows:
        return _reference(render("size_none_past", calibre=calibre), calibre)
    bought = [r.calibre for r in rows if r.purchased]
    if not bought:
        verdict = render("size_none_bought")
    elif len(bought) == len(rows):
        verdict = render("size_all_bought")
    else:
        verdict = render("size_bought_only", calibres=_listing(bought))
    template = "size_smaller" if smaller else "size_bigger"
    answer = render(template, calibre=calibre, calibres=_listing([r.calibre for r in rows]), bought=verdict)
    return _reference(answer, calibre)


def _reference(answer: str, calibre: int | None = None) -> Reply:
    """A size answer; it remembers the calibre, so "¿y cuánto pesa cada uno?" follows on."""
    return _remembered(Reply.say("size_reference", answer=answer), calibre)


def _remembered(reply: Reply, calibre: int | None = None) -> Reply:
    context: dict[str, object] = {"skill": intents.ASK_AVOCADO_SIZE, "product": "aguacate"}
    if calibre is not None:
        context["calibre"] = f"calibre {calibre}"
    reply.remember[SLOT_CONTEXT] = context
    return reply


def _listing(numbers: list[int]) -> str:
    words = [str(n) for n in numbers]
    return ", ".join(words[:-1]) + " y " + words[-1] if len(words) > 1 else "".join(words)


def _bought(row: AvocadoCalibre) -> str:
    return render("size_bought" if row.purchased else "size_not_bought")


def size_for_calibre(table: list[AvocadoCalibre], calibre: int) -> str:
    row = next((r for r in table if r.calibre == calibre), None)
    if row is None:
        return render("size_calibre_unknown", calibre=calibre, known=_listing([r.calibre for r in table]))
    values = {
        "calibre": row.calibre,
        "low": row.weight_min_g,
        "high": row.weight_max_g,
        "bought": _bought(row),
    }
    if row.weight_min_g is None:
        return render("size_calibre_no_weight", **values)
    if row.weight_min_g == row.weight_max_g:
        return render("size_calibre_point", **values)
    return render("size_calibre_range", **values)


def size_for_weight(table: list[AvocadoCalibre], grams: int) -> str:
    """Only the table's own figures: a range that holds the weight, or the two nearest points.
    No figure is made up by dividing the box weight (see shared/domain/facts.md §1.2)."""
    weighed = [r for r in table if r.weight_min_g is not None]
    inside = [
        r for r in weighed if r.weight_min_g < r.weight_max_g and r.weight_min_g <= grams <= r.weight_max_g
    ]
    if inside:
        ranges = sorted(inside, key=lambda r: r.calibre)
        return render(
            "size_for_weight_range",
            grams=grams,
            calibres=" o ".join(str(r.calibre) for r in ranges),
            low=ranges[0].weight_min_g,
            high=ranges[0].weight_max_g,
            bought=render("size_bought") if any(r.purchased for r in ranges) else render("size_not_bought"),
        )
    heaviest = max(weighed, key=lambda r: r.weight_max_g)
    if grams > heaviest.weight_max_g:
        return render(
            "size_for_weight_above",
            grams=grams,
            calibre=heaviest.calibre,
            low=heaviest.weight_min_g,
            high=heaviest.weight_max_g,
            bought=_bought(heaviest),
        )
    lightest = min(weighed, key=lambda r: r.weight_min_g)
    if grams < lightest.weight_min_g:
        return render(
            "size_for_weight_below", grams=grams, calibre=lightest.calibre, low=lightest.weight_min_g
        )
    bigger = min((r for r in weighed if r.weight_min_g > grams), key=lambda r: r.weight_min_g)
    smaller = max((r for r in weighed if r.weight_max_g < grams), key=lambda r: r.weight_max_g)
    bought = render("size_bought_both") if bigger.purchased and smaller.purchased else ""
    return render(
        "size_for_weight_between",
        grams=grams,
        big=bigger.calibre,
        big_g=bigger.weight_min_g,
        small=smaller.calibre,
        small_g=smaller.weight_max_g,
        bought=bought,
    ).strip()
