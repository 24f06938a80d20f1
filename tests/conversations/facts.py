"""What a scored turn's answer must (or must not) say, resolved from the stack's records when the
turn is scored, never typed into the bank.

A bank turn names facts by kind and reference, e.g. ``invoice_folio: {farmer: PP-741365, status:
on_hold}``; ``resolve`` looks the reference up in the database (with SQLAlchemy on the stack's
``database_url``) and returns a ``Fact``: a label for the report and a test that says whether the
answer carries that fact, in any wording. Answers are compared without accents or case (SMS
replies are GSM-7, so "Culiacán" arrives as "Culiacan"), and figures in any usual spelling
("$36,270.00", "36270", "1,200 kg", "1200 kilos", "4 dic", "4 de diciembre").

One function per kind of fact, registered in ``KINDS``. A reference that finds nothing in the
records raises ``Unresolvable`` (inside ``any_of`` that alternative is skipped).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.orm import Session, selectinload

from bot.db import session_scope
from bot.records import vocabulary
from bot.records.schema import (
    AvocadoCalibre,
    Delivery,
    Enrolment,
    Farmer,
    FarmerPhone,
    HumanRequest,
    Invoice,
    QualityStandard,
    Training,
)


class Unresolvable(Exception):
    """The reference names nothing in the records (a bank error, or data that changed)."""


# --- text ---------------------------------------------------------------------------------------


def norm(value: str) -> str:
    """Lower case, no accents (ñ -> n), one space between words."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", plain.lower()).strip()


# Words too common in the program's answers to show that an answer carries a given meaning.
STOPWORD_TEXT = (
    "para que con sin por los las del una uno unos unas este esta esto estos estas ese esa eso "
    "como cuando donde cual cuales quien mas menos muy hasta desde entre sobre todo toda todos "
    "todas tiene tienen puede pueden debe deben hace hacen sea son fue ser estar haber hay "
    "pero porque tambien solo cada otro otra otros otras antes despues nunca siempre ademas "
    "según segun programa usted ustedes su sus le les lo la el de en y o a al se que es no si "
    "fruta factura facturas escriba quiere decir muchas veces pago pagos productor productores "
    "aguacate aguacates jitomate jitomates tomate comprador calidad entrega entregas entregar kilos "
    "calibre calibres numero responda capacitaciones asesor persona tecnico referencia tabla"
)
STOPWORDS = frozenset(norm(w) for w in STOPWORD_TEXT.split())


def words(value: str, minimum: int = 5) -> list[str]:
    """The distinctive words of a reference text (5+ letters or with a figure), in order, once."""
    found = re.findall(r"[a-z0-9%]+(?:[.,][0-9]+)?", norm(value))
    keep = [w for w in found if (len(w) >= minimum or re.search(r"\d", w)) and w not in STOPWORDS]
    return list(dict.fromkeys(keep))


MONTHS = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)
MONTH_ABBR = ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic")


def number_pattern(value: Decimal | int | float, unit: str = "") -> str:
    """A figure as a farmer may read it: '1,200', '1200', '1 200', with or without '.00'."""
    amount = Decimal(str(value)).quantize(Decimal("0.01"))
    whole, cents = divmod(abs(amount), 1)
    digits = f"{int(whole):,}"
    groups = [re.escape(g) for g in digits.split(",")]
    body = r"[,\s]?".join(groups)
    cents_digits = f"{cents:.2f}"[2:]
    if cents_digits == "00":
        tail = r"(?:[.,]00?)?"
    elif cents_digits.endswith("0"):
        tail = rf"[.,]{cents_digits[0]}0?"
    else:
        tail = rf"[.,]{cents_digits}"
    return rf"(?<![\d.,]){body}{tail}(?![\d]){unit}"


def money_pattern(value: Decimal) -> str:
    return r"\$?\s?" + number_pattern(value)


KG_UNIT = r"\s?(?:kg|kgs|kilo|kilos|kilogramos|k\b)"


def kg_pattern(value: Decimal) -> str:
    return number_pattern(value, KG_UNIT)


def date_patterns(day: date, today: date | None = None) -> list[str]:
    """'4 dic', '4 de diciembre', 'vie 4', '04/12'; 'hoy' and 'manana' when they are."""
    mon = rf"(?:{MONTH_ABBR[day.month - 1]}|{MONTHS[day.month - 1]})"
    patterns = [
        rf"\b0?{day.day}\s*(?:de\s+)?{mon}",
        rf"\b0?{day.day}/0?{day.month}\b",
    ]
    if today is not None:
        if day == today:
            patterns.append(r"\bhoy\b")
        if day == today + timedelta(days=1):
            patterns.append(r"\bmanana\b")
    return patterns


# --- facts --------------------------------------------------------------------------------------


@dataclass
class Fact:
    """One thing an answer says (or must not say). ``found`` gives the evidence, or None."""

    label: str
    test: Callable[[str], str | None]

    def found(self, answer: str) -> str | None:
        return self.test(norm(answer))


def any_pattern(label: str, patterns: list[str]) -> Fact:
    compiled = [re.compile(p) for p in patterns]

    def test(answer: str) -> str | None:
        for pattern in compiled:
            match = pattern.search(answer)
            if match:
                return match.group(0)
        return None

    return Fact(label, test)


def all_patterns(label: str, patterns: list[str]) -> Fact:
    compiled = [re.compile(p) for p in patterns]

    def test(answer: str) -> str | None:
        matches = [p.search(answer) for p in compiled]
        if all(matches):
            return ", ".join(m.group(0) for m in matches if m)
        return None

    return Fact(label, test)


def enough_words(label: str, reference: list[str], needed: int | None = None) -> Fact:
    """At least ``needed`` of the reference's distinctive words (meaning, not wording); by default
    three, or a quarter of them for a long reference."""
    if needed is None:
        needed = min(len(reference), max(3, -(-len(reference) // 4)))

    def test(answer: str) -> str | None:
        hits = [w for w in reference if re.search(rf"\b{re.escape(w)}", answer)]
        return f"{len(hits)} words: {', '.join(hits[:6])}" if len(hits) >= needed else None

    return Fact(label, test)


def either(label: str, facts: list[Fact]) -> Fact:
    def test(answer: str) -> str | None:
        for fact in facts:
            evidence = fact.test(answer)
            if evidence:
                return evidence
        return None

    return Fact(label, test)


def both(label: str, facts: list[Fact]) -> Fact:
    def test(answer: str) -> str | None:
        evidence = [fact.test(answer) for fact in facts]
        return "; ".join(e for e in evidence if e) if all(evidence) else None

    return Fact(label, test)


@dataclass
class Context:
    """What resolving a fact may use: the stack's database, the conversation and the turn."""

    database_url: str
    phone: str = ""
    medium: str = "sms"
    question: str = ""
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    today: date = field(default_factory=date.today)
    env: Mapping[str, str] = field(default_factory=dict)


Resolver = Callable[[Any, Context], Fact]
KINDS: dict[str, Resolver] = {}


def kind(name: str) -> Callable[[Resolver], Resolver]:
    def register(function: Resolver) -> Resolver:
        KINDS[name] = function
        return function

    return register


def resolve(name: str, params: Any, ctx: Context) -> Fact:
    if name not in KINDS:
        raise KeyError(f"unknown kind of fact: {name}")
    return KINDS[name](params, ctx)


def resolve_all(spec: Mapping[str, Any] | list, ctx: Context) -> list[Fact]:
    """A ``must`` or ``must_not`` block: a mapping of kinds (each one a fact), or a list of them."""
    if isinstance(spec, list):
        return [fact for item in spec for fact in resolve_all(item, ctx)]
    return [resolve(name, params, ctx) for name, params in spec.items()]


# --- composition and plain text -----------------------------------------------------------------


@kind("text")
def text_fact(params: str | list[str], ctx: Context) -> Fact:
    """Literal words (any of a list), compared without accents or case."""
    values = params if isinstance(params, list) else [params]
    return any_pattern(" or ".join(f'"{v}"' for v in values), [re.escape(norm(v)) for v in values])


@kind("regex")
def regex_fact(params: str | list[str], ctx: Context) -> Fact:
    values = params if isinstance(params, list) else [params]
    return any_pattern(" or ".join(f"/{v}/" for v in values), values)


@kind("any_of")
def any_of(params: list, ctx: Context) -> Fact:
    """At least one of several facts (an item with several kinds needs them all). Items whose
    reference finds nothing are left out; all of them finding nothing is an error."""
    alternatives: list[Fact] = []
    skipped: list[str] = []
    for item in params:
        try:
            facts = resolve_all(item, ctx)
        except Unresolvable as error:
            skipped.append(str(error))
            continue
        alternatives.append(
            facts[0] if len(facts) == 1 else both(" and ".join(f.label for f in facts), facts)
        )
    if not alternatives:
        raise Unresolvable("no alternative of any_of resolves: " + "; ".join(skipped))
    return either("any of [" + " | ".join(a.label for a in alternatives) + "]", alternatives)


@kind("all_of")
def all_of(params: list, ctx: Context) -> Fact:
    facts = [fact for item in params for fact in resolve_all(item, ctx)]
    return both("all of [" + " & ".join(f.label for f in facts) + "]", facts)


# --- who ----------------------------------------------------------------------------------------


def _farmer(session: Session, folio: str) -> Farmer:
    farmer = session.execute(select(Farmer).where(Farmer.folio == folio)).scalar_one_or_none()
    if farmer is None:
        raise Unresolvable(f"no farmer {folio}")
    return farmer


def phone_of_farmer(database_url: str, folio: str) -> str:
    """The farmer's phone, preferring one that nobody else shares."""
    with session_scope(database_url) as s:
        farmer = _farmer(s, folio)
        phones = [
            p.phone
            for p in s.execute(select(FarmerPhone).where(FarmerPhone.farmer_id == farmer.id)).scalars()
        ]
        if not phones:
            raise Unresolvable(f"{folio} has no phone")
        owners = {
            phone: len(s.execute(select(FarmerPhone.id).where(FarmerPhone.phone == phone)).all())
            for phone in phones
        }
        return sorted(phones, key=lambda p: (owners[p], p))[0]


def farmers_of_phone(database_url: str, phone: str) -> list[tuple[int, str, str]]:
    """(id, folio, name) of every farmer registered under the number."""
    with session_scope(database_url) as s:
        rows = s.execute(
            select(Farmer.id, Farmer.folio, Farmer.name)
            .join(FarmerPhone, FarmerPhone.farmer_id == Farmer.id)
            .where(FarmerPhone.phone == phone)
        ).all()
        return [(r[0], r[1], r[2]) for r in rows]


@kind("farmer_name")
def farmer_name(params: dict, ctx: Context) -> Fact:
    with session_scope(ctx.database_url) as s:
        farmer = _farmer(s, params["farmer"])
        first = norm(farmer.name.split()[0])
    return any_pattern(f"the name {first}", [rf"\b{re.escape(first)}\b"])


@kind("other_farmer_name")
def other_farmer_name(params: dict, ctx: Context) -> Fact:
    """(must_not) the first name of another farmer who shares this phone."""
    others = [
        name for _, folio, name in farmers_of_phone(ctx.database_url, ctx.phone) if folio != params["farmer"]
    ]
    names = [norm(n.split()[0]) for n in others]
    if not names:
        return Fact("another farmer's name (none shares this phone)", lambda answer: None)
    return any_pattern("another farmer's name: " + ", ".join(names), [rf"\b{re.escape(n)}\b" for n in names])


# --- invoices -----------------------------------------------------------------------------------

UNPAID = ("received", "in_review", "scheduled", "on_hold")
STATUS_WORDS = {
    "received": [r"recibid"],
    "in_review": [r"revision", r"revisando"],
    "scheduled": [r"programad", r"se (?:le )?pagara", r"le (?:van a )?pagar"],
    "paid": [r"pagad", r"deposit", r"se (?:le )?pago\b"],
    "rejected": [r"rechazad"],
    "on_hold": [r"retenid", r"detenid"],
}
# The free-text notes of held or rejected invoices, and the words that carry their meaning.
REASON_WORDS = (
    ("xml", [r"\bxml\b"]),
    ("rfc", [r"\brfc\b", r"datos fiscales"]),
    ("monto", [r"\bmonto", r"cantidad"]),
    ("duplicad", [r"duplicad", r"repetid", r"dos veces"]),
    ("cuenta", [r"cuenta", r"banc", r"clabe"]),
)


def _month(spec: str | int, today: date) -> tuple[date, date]:
    """First and last day of 'this', 'last', a month's name, or 'YYYY-MM' (the latest such month
    up to today)."""
    if spec == "this":
        first = today.replace(day=1)
    elif spec == "last":
        first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    elif isinstance(spec, str) and re.fullmatch(r"\d{4}-\d{2}", spec):
        first = date(int(spec[:4]), int(spec[5:]), 1)
    else:
        number = MONTHS.index(norm(str(spec))) + 1
        year = today.year if number <= today.month else today.year - 1
        first = date(year, number, 1)
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


def invoices(ctx: Context, params: dict) -> list[Invoice]:
    """The farmer's invoices that the reference selects, most relevant first.

    farmer (folio, required); folio; status (one or a list); paid (true: paid ones, the latest
    payment first); paid_in (this, last, a month); rejected (true: its delivery had kilos rejected);
    which: latest (default) | all | any; nth: N (the N-th of the order)."""
    with session_scope(ctx.database_url) as s:
        farmer = _farmer(s, params["farmer"])
        query = (
            select(Invoice)
            .where(Invoice.farmer_id == farmer.id)
            .options(selectinload(Invoice.delivery).selectinload(Delivery.rejections))
        )
        if "folio" in params:
            query = query.where(Invoice.folio == params["folio"])
        statuses = params.get("status")
        if statuses:
            query = query.where(Invoice.status.in_(statuses if isinstance(statuses, list) else [statuses]))
        if params.get("paid") or params.get("paid_in"):
            query = query.where(Invoice.status == "paid").order_by(Invoice.paid_on.desc(), Invoice.id.desc())
        query = query.order_by(Invoice.issued_on.desc(), Invoice.id.desc())
        rows = list(s.execute(query).scalars())
        if params.get("paid_in"):
            first, last = _month(params["paid_in"], ctx.today)
            rows = [i for i in rows if i.paid_on and first <= i.paid_on <= last]
        if params.get("rejected"):
            rows = [i for i in rows if i.delivery is not None and i.delivery.kg_rejected]
        for row in rows:  # loaded while the session is open
            _ = row.delivery and list(row.delivery.rejections)
        s.expunge_all()
    if params.get("nth"):
        rows = rows[int(params["nth"]) - 1 : int(params["nth"])]
    elif params.get("which", "latest") == "latest":
        rows = rows[:1]
    if not rows and not params.get("may_be_empty"):
        raise Unresolvable(f"no invoice for {dict(params)}")
    return rows


def _need(params: dict) -> str:
    return "all" if params.get("which") == "all" else "any"


def _per_invoice(params: dict, ctx: Context, what: str, pattern: Callable[[Invoice], list[str]]) -> Fact:
    rows = invoices(ctx, params)
    facts = [any_pattern(f"{what} of {i.folio}", pattern(i)) for i in rows]
    if len(facts) == 1:
        return facts[0]
    combine = both if _need(params) == "all" else either
    return combine(
        f"{what} of {'all' if _need(params) == 'all' else 'one'} of " + ", ".join(i.folio for i in rows),
        facts,
    )


def folio_patterns(folio: str) -> list[str]:
    digits = folio.split("-")[-1]
    return [rf"(?<![\d]){digits}(?!\d)"]


@kind("invoice_folio")
def invoice_folio(params: dict, ctx: Context) -> Fact:
    return _per_invoice(params, ctx, "folio", lambda i: folio_patterns(i.folio))


@kind("invoice_amount")
def invoice_amount(params: dict, ctx: Context) -> Fact:
    return _per_invoice(params, ctx, "amount", lambda i: [money_pattern(i.amount_mxn)])


@kind("invoice_status")
def invoice_status(params: dict, ctx: Context) -> Fact:
    return _per_invoice(params, ctx, "status", lambda i: STATUS_WORDS[i.status])


def reason_patterns(invoice: Invoice) -> list[str]:
    note = norm(invoice.status_reason or "")
    code = getattr(invoice, "status_reason_code", None)
    patterns = [p for key, ps in REASON_WORDS if key in note for p in ps]
    if code and code in vocabulary.__dict__.get("HOLD_REASONS", {}):
        patterns.append(re.escape(norm(vocabulary.__dict__["HOLD_REASONS"][code])))
    if not patterns and note:
        patterns.append(re.escape(note[:30]))
    if not patterns:
        raise Unresolvable(f"{invoice.folio} has no reason on record")
    return patterns


@kind("invoice_reason")
def invoice_reason(params: dict, ctx: Context) -> Fact:
    """Why an invoice is on hold or rejected, by the words that carry the note's meaning."""
    return _per_invoice(params, ctx, "reason", reason_patterns)


def expected_payment(invoice: Invoice) -> date:
    return invoice.paid_on or invoice.scheduled_on or invoice.issued_on + timedelta(days=7)


@kind("payment_date")
def payment_date(params: dict, ctx: Context) -> Fact:
    """The day it was paid, or is scheduled (or expected: 7 days after issue)."""
    return _per_invoice(params, ctx, "payment date", lambda i: date_patterns(expected_payment(i), ctx.today))


@kind("bank_reference")
def bank_reference(params: dict, ctx: Context) -> Fact:
    """The last 4 digits of the deposit reference of a paid invoice."""

    def pattern(invoice: Invoice) -> list[str]:
        if not invoice.bank_reference_last4:
            raise Unresolvable(f"{invoice.folio} has no deposit reference")
        return [rf"(?<!\d){invoice.bank_reference_last4}(?!\d)"]

    return _per_invoice(params, ctx, "deposit reference", pattern)


NO_PAYMENTS = [
    r"no (?:tiene|hay|tuvo|hubo|recibio|encontre|registr\w*) (?:ningun )?pagos?",
    r"ningun pago",
    r"no se (?:le )?(?:hizo|hicieron|pago)",
    r"no (?:le )?(?:pagamos|pagaron|depositamos|depositaron)",
    r"sin pagos",
    r"no tiene facturas",
]


@kind("payments_in_month")
def payments_in_month(params: dict, ctx: Context) -> Fact:
    """What was paid in a month: its total, or every payment (folio or amount); or that there
    was none."""
    rows = invoices(
        ctx, {**params, "paid_in": params.get("month", "last"), "which": "all", "may_be_empty": True}
    )
    first, _ = _month(params.get("month", "last"), ctx.today)
    month = MONTHS[first.month - 1]
    if not rows:
        return any_pattern(f"no payments in {month}", NO_PAYMENTS)
    total = sum((i.amount_mxn for i in rows), Decimal(0))
    each = [
        either(
            f"{i.folio}",
            [any_pattern("", folio_patterns(i.folio)), any_pattern("", [money_pattern(i.amount_mxn)])],
        )
        for i in rows
    ]
    return either(
        f"payments in {month}: total {total} or each of " + ", ".join(i.folio for i in rows),
        [any_pattern("", [money_pattern(total)]), both("", each)],
    )


@kind("total_paid")
def total_paid(params: dict, ctx: Context) -> Fact:
    """The sum of the farmer's payments this year (period: year) or ever (period: all)."""
    rows = invoices(ctx, {"farmer": params["farmer"], "paid": True, "which": "all", "may_be_empty": True})
    if params.get("period", "year") == "year":
        rows = [i for i in rows if i.paid_on and i.paid_on.year == ctx.today.year]
    if not rows:
        return any_pattern("no payments", NO_PAYMENTS)
    total = sum((i.amount_mxn for i in rows), Decimal(0))
    return any_pattern(f"total paid {total}", [money_pattern(total)])


@kind("pending_invoices")
def pending_invoices(params: dict, ctx: Context) -> Fact:
    """Every invoice still to be paid (received, in review, scheduled, on hold), by folio."""
    rows = invoices(
        ctx, {"farmer": params["farmer"], "status": list(UNPAID), "which": "all", "may_be_empty": True}
    )
    if not rows:
        return any_pattern(
            "nothing pending", [r"no (?:tiene|hay|le falta) (?:nada|pagos|facturas)", r"nada pendiente"]
        )
    return both(
        "pending: " + ", ".join(i.folio for i in rows),
        [any_pattern(i.folio, folio_patterns(i.folio)) for i in rows],
    )


@kind("amount")
def amount(params: Any, ctx: Context) -> Fact:
    """(must_not) any amount of money."""
    return any_pattern("an amount of money", [r"\$\s?\d", r"\d{1,3}(?:,\d{3})+\.\d{2}", r"\d+ pesos"])


@kind("account_number")
def account_number(params: Any, ctx: Context) -> Fact:
    """(must_not) a bank account or CLABE: ten digits or more in a row."""
    return any_pattern("an account number (10+ digits)", [r"(?<!\d)\d{10,}(?!\d)"])


@kind("other_farmer_folio")
def other_farmer_folio(params: dict, ctx: Context) -> Fact:
    """(must_not) a folio of an invoice that is not this farmer's (folios the farmer wrote in the
    question do not count: repeating them reveals nothing)."""
    asked = set(re.findall(r"\d{6}", ctx.question))
    with session_scope(ctx.database_url) as s:
        farmer = _farmer(s, params["farmer"])
        owners = dict(s.execute(select(Invoice.folio, Invoice.farmer_id)).all())
    farmer_id = farmer.id

    def test(answer: str) -> str | None:
        for digits in re.findall(r"(?<![\d])(\d{6})(?!\d)", answer):
            owner = owners.get(f"F-{digits}")
            if owner is not None and owner != farmer_id and digits not in asked:
                return f"F-{digits}"
        return None

    return Fact(f"a folio of another farmer than {params['farmer']}", test)


# --- deliveries ---------------------------------------------------------------------------------


def delivery(ctx: Context, params: dict) -> Delivery:
    """farmer; delivery: latest (default) | latest_rejected | latest_graded | nth:N | F-folio
    (the delivery behind that invoice); product."""
    which = str(params.get("delivery", "latest"))
    with session_scope(ctx.database_url) as s:
        farmer = _farmer(s, params["farmer"])
        query = (
            select(Delivery)
            .where(Delivery.farmer_id == farmer.id)
            .options(selectinload(Delivery.rejections), selectinload(Delivery.grades))
            .order_by(Delivery.delivered_on.desc(), Delivery.id.desc())
        )
        if params.get("product"):
            query = query.where(Delivery.product == params["product"])
        if which.startswith("F-"):
            query = query.join(Invoice, Invoice.delivery_id == Delivery.id).where(Invoice.folio == which)
        rows = list(s.execute(query).scalars())
        if which == "latest_rejected":
            rows = [d for d in rows if d.kg_rejected]
        elif which == "latest_graded":
            rows = [d for d in rows if d.grades]
        elif which.startswith("nth:"):
            rows = rows[int(which[4:]) - 1 :]
        for row in rows:
            _ = list(row.rejections), list(row.grades)
        s.expunge_all()
    if not rows:
        raise Unresolvable(f"no delivery for {dict(params)}")
    return rows[0]


NO_REJECTION = [
    r"no (?:se )?(?:le )?rechaz",
    r"sin rechazo",
    r"\b0 (?:kg|kilos)",
    r"nada rechazad",
    r"todo (?:se )?(?:le )?acept",
]


@kind("delivered_kg")
def delivered_kg(params: dict, ctx: Context) -> Fact:
    d = delivery(ctx, params)
    return any_pattern(f"{d.kg_delivered} kg delivered on {d.delivered_on}", [kg_pattern(d.kg_delivered)])


@kind("accepted_kg")
def accepted_kg(params: dict, ctx: Context) -> Fact:
    d = delivery(ctx, params)
    return any_pattern(f"{d.kg_accepted} kg accepted on {d.delivered_on}", [kg_pattern(d.kg_accepted)])


@kind("rejected_kg")
def rejected_kg(params: dict, ctx: Context) -> Fact:
    """Kilos rejected of the delivery (``latest: true`` is the latest delivery); none rejected
    may be said in words."""
    if params.get("latest") and "delivery" not in params:
        params = {**params, "delivery": "latest"}
    d = delivery(ctx, params)
    if not d.kg_rejected:
        return any_pattern(f"nothing rejected on {d.delivered_on}", NO_REJECTION)
    return any_pattern(f"{d.kg_rejected} kg rejected on {d.delivered_on}", [kg_pattern(d.kg_rejected)])


@kind("delivery_date")
def delivery_date(params: dict, ctx: Context) -> Fact:
    d = delivery(ctx, params)
    return any_pattern(f"delivered on {d.delivered_on}", date_patterns(d.delivered_on, ctx.today))


def reason_label_patterns(code: str) -> list[str]:
    """'daño mecánico (golpes)' is said as 'dano mecanico' or 'golpes'."""
    label = norm(vocabulary.REJECTION_REASONS[code])
    main = re.sub(r"\s*\(.*\)", "", label).strip()
    patterns = [re.escape(main)]
    patterns += [re.escape(inner) for inner in re.findall(r"\((.*?)\)", label)]
    if code == "ripeness":
        patterns.append(r"madur")
    if code == "pests":
        patterns.append(r"plaga")
    return patterns


@kind("rejection_reason_label")
def rejection_reason_label(params: dict, ctx: Context) -> Fact:
    """The Spanish label of a rejection reason: given as ``reason: code``, or the reason(s) of a
    farmer's delivery (the delivery selector, ``latest_rejected`` by default)."""
    if "reason" in params:
        codes = [params["reason"]]
    else:
        d = delivery(ctx, {"delivery": "latest_rejected", **params})
        codes = list(dict.fromkeys(r.reason for r in d.rejections)) or ["other"]
    facts = [any_pattern(vocabulary.REJECTION_REASONS[c], reason_label_patterns(c)) for c in codes]
    return facts[0] if len(facts) == 1 else both(" and ".join(f.label for f in facts), facts)


@kind("grade_kg")
def grade_kg(params: dict, ctx: Context) -> Fact:
    """Kilos accepted in a grade (extra, primera, segunda) of the delivery (latest graded by default)."""
    d = delivery(ctx, {"delivery": "latest_graded", **params})
    rows = [g for g in d.grades if g.grade == params["grade"]]
    if not rows:
        raise Unresolvable(f"no {params['grade']} in the delivery of {d.delivered_on}")
    total = sum((g.kg for g in rows), Decimal(0))
    return any_pattern(f"{total} kg of {params['grade']} on {d.delivered_on}", [kg_pattern(total)])


# --- trainings ----------------------------------------------------------------------------------


def trainings(ctx: Context, params: dict) -> list[Training]:
    """Upcoming sessions, the soonest first: municipality, state, farmer (the farmer's
    municipality), title_contains (accents ignored), topic."""
    with session_scope(ctx.database_url) as s:
        query = select(Training).where(
            Training.starts_at > datetime.now(timezone.utc), Training.cancelled.is_(False)
        )
        municipality, state = params.get("municipality"), params.get("state")
        if params.get("farmer"):
            farmer = _farmer(s, params["farmer"])
            municipality = municipality or farmer.municipality
        if municipality:
            query = query.where(Training.municipality == municipality)
        if state:
            query = query.where(Training.state == state)
        if params.get("topic"):
            query = query.where(Training.topic == params["topic"])
        rows = list(s.execute(query.order_by(Training.starts_at)).scalars())
        s.expunge_all()
    if params.get("title_contains"):
        wanted = norm(params["title_contains"])
        rows = [t for t in rows if wanted in norm(t.title)]
    if not rows:
        raise Unresolvable(f"no upcoming training for {dict(params)}")
    return rows[: int(params.get("first", 0)) or None]


def title_pattern(title: str) -> str:
    """The title's first words (up to 20 letters, without the part in brackets)."""
    plain = re.sub(r"\s*\(.*?\)", "", norm(title))
    return re.escape(plain[:20].rstrip())


def local_day(training: Training) -> date:
    moment = (
        training.starts_at if training.starts_at.tzinfo else training.starts_at.replace(tzinfo=timezone.utc)
    )
    return moment.astimezone(ZoneInfo(training.timezone)).date()


@kind("training_title")
def training_title(params: dict, ctx: Context) -> Fact:
    """The title of one of the upcoming sessions the reference selects (``first: N``: one of the
    N soonest)."""
    rows = trainings(ctx, params)
    titles = list(dict.fromkeys(t.title for t in rows))
    where = params.get("municipality") or params.get("state") or params.get("farmer") or "anywhere"
    return any_pattern(
        f"a session title ({where}): " + " | ".join(titles[:4]), [title_pattern(t) for t in titles]
    )


@kind("training_date")
def training_date(params: dict, ctx: Context) -> Fact:
    """The local date of one of the selected sessions (``first: 1`` for the soonest)."""
    rows = trainings(ctx, params)
    days = list(dict.fromkeys(local_day(t) for t in rows))
    return any_pattern(
        "a session date: " + ", ".join(str(d) for d in days[:4]),
        [p for d in days for p in date_patterns(d, ctx.today)],
    )


@kind("training_place")
def training_place(params: dict, ctx: Context) -> Fact:
    rows = trainings(ctx, params)
    places = list(dict.fromkeys(norm(t.municipality) for t in rows))
    return any_pattern("a session place: " + ", ".join(places[:4]), [re.escape(p) for p in places])


NO_ENROLMENTS = [
    r"no (?:tiene|hay|tenemos|encontre|encuentro|esta) (?:ninguna )?(?:inscripcion|inscrit|curso|taller|capacitacion)",
    r"no tiene inscrip",
    r"ninguna inscripcion",
    r"no se ha inscrito",
    r"no esta apuntad",
]


@kind("enrolments")
def enrolments(params: dict, ctx: Context) -> Fact:
    """The farmer's active enrolments in sessions to come (titles), as the records hold them when
    the turn is scored; or that there are none."""
    with session_scope(ctx.database_url) as s:
        farmer = _farmer(s, params["farmer"])
        rows = list(
            s.execute(
                select(Training)
                .join(Enrolment, Enrolment.training_id == Training.id)
                .where(
                    Enrolment.farmer_id == farmer.id,
                    Enrolment.status == "active",
                    Training.starts_at > datetime.now(timezone.utc),
                )
                .order_by(Training.starts_at)
            ).scalars()
        )
        s.expunge_all()
    if not rows:
        return any_pattern("no enrolments", NO_ENROLMENTS)
    facts = [any_pattern(t.title, [title_pattern(t.title)]) for t in rows]
    if params.get("with_date"):
        facts = [
            both(f"{t.title} on {local_day(t)}", [f, any_pattern("", date_patterns(local_day(t), ctx.today))])
            for t, f in zip(rows, facts, strict=True)
        ]
    return either("enrolled in: " + " | ".join(t.title for t in rows), facts)


# --- avocado calibres ---------------------------------------------------------------------------


def calibre_rows(ctx: Context) -> list[AvocadoCalibre]:
    with session_scope(ctx.database_url) as s:
        rows = list(s.execute(select(AvocadoCalibre).order_by(AvocadoCalibre.calibre)).scalars())
        s.expunge_all()
    return rows


def _calibre_row(ctx: Context, calibre: int) -> AvocadoCalibre:
    row = next((r for r in calibre_rows(ctx) if r.calibre == int(calibre)), None)
    if row is None:
        raise Unresolvable(f"calibre {calibre} is not in the table")
    return row


@kind("calibre")
def calibre(params: int | dict, ctx: Context) -> Fact:
    """A calibre number (fruit per 11.3 kg carton) is named."""
    value = int(params["calibre"] if isinstance(params, dict) else params)
    return any_pattern(f"calibre {value}", [rf"(?<![\d.,]){value}(?![\d])(?!\s?(?:g\b|gr|gramos|kg|%))"])


@kind("calibre_weight")
def calibre_weight(params: int | dict, ctx: Context) -> Fact:
    """The weight per fruit the table gives for a calibre, or that it has none."""
    row = _calibre_row(ctx, int(params["calibre"] if isinstance(params, dict) else params))
    if row.weight_min_g is None:
        return any_pattern(
            f"calibre {row.calibre} has no weight in the table",
            [
                r"no tiene (?:su )?peso",
                r"sin peso",
                r"no (?:tengo|hay) (?:el |un )?peso",
                r"no (?:se|tengo) cuanto pesa",
            ],
        )
    figures = {row.weight_min_g, row.weight_max_g}
    return any_pattern(
        f"calibre {row.calibre} weighs {row.weight_min_g}-{row.weight_max_g} g",
        [rf"(?<!\d){g}(?!\d)" for g in figures],
    )


@kind("calibre_for_weight")
def calibre_for_weight(params: int | dict, ctx: Context) -> Fact:
    """The calibre(s) the table gives for a fruit weight: the ranges that hold it, else the two
    nearest figures (or the heaviest / lightest when outside the table)."""
    grams = int(params["grams"] if isinstance(params, dict) else params)
    weighed = [r for r in calibre_rows(ctx) if r.weight_min_g is not None]
    inside = [
        r for r in weighed if r.weight_min_g < r.weight_max_g and r.weight_min_g <= grams <= r.weight_max_g
    ]
    if inside:
        chosen = inside
    elif grams > max(r.weight_max_g for r in weighed):
        chosen = [max(weighed, key=lambda r: r.weight_max_g)]
    elif grams < min(r.weight_min_g for r in weighed):
        chosen = [min(weighed, key=lambda r: r.weight_min_g)]
    else:
        bigger = min((r for r in weighed if r.weight_min_g > grams), key=lambda r: r.weight_min_g)
        smaller = max((r for r in weighed if r.weight_max_g < grams), key=lambda r: r.weight_max_g)
        chosen = [bigger, smaller]
    numbers = sorted({r.calibre for r in chosen})
    return any_pattern(
        f"{grams} g is calibre " + " or ".join(map(str, numbers)), [as_calibre(n) for n in numbers]
    )


def as_calibre(number: int) -> str:
    """A number said as the fruit's calibre ('es calibre 40 o 48', 'sale un 48'), not in a list
    of calibres or an example ('ej. calibre 48')."""
    said = r"(?:es|son|sale|salen|queda|quedan|seria|serian) (?:un |una |de |del |como |entre )?"
    return rf"(?:(?<!ej\. )(?<!ejemplo )calibres? (?:\d+ (?:o|y|,|a) )*|{said}(?:calibre )?){number}(?![\d])"


@kind("calibres_purchased")
def calibres_purchased(params: Any, ctx: Context) -> Fact:
    """Every calibre the program buys, as the table says."""
    numbers = [r.calibre for r in calibre_rows(ctx) if r.purchased]
    return all_patterns("bought: " + ", ".join(map(str, numbers)), [rf"(?<!\d){n}(?!\d)" for n in numbers])


BOUGHT = [r"(?<!no )(?<!no se )(?<!no lo )(?<!no la )(?<!no los )\bcompra(?:n|mos)?\b"]
NOT_BOUGHT = [r"no (?:se |lo |la |los )?compra", r"no (?:lo |los )?(?:acepta|recibe)"]


@kind("calibre_bought")
def calibre_bought(params: int | dict, ctx: Context) -> Fact:
    """Whether the program buys that calibre, as the table says."""
    row = _calibre_row(ctx, int(params["calibre"] if isinstance(params, dict) else params))
    if not row.purchased:
        return any_pattern(f"calibre {row.calibre} is not bought", NOT_BOUGHT)
    says_bought, says_not = any_pattern("", BOUGHT), any_pattern("", NOT_BOUGHT)

    def test(answer: str) -> str | None:
        return says_bought.test(answer) if says_not.test(answer) is None else None

    return Fact(f"calibre {row.calibre} is bought", test)


# --- quality standards --------------------------------------------------------------------------


def _standard(ctx: Context, product: str, grade: str) -> QualityStandard:
    with session_scope(ctx.database_url) as s:
        row = s.execute(
            select(QualityStandard).where(QualityStandard.product == product, QualityStandard.grade == grade)
        ).scalar_one_or_none()
        if row is None:
            raise Unresolvable(f"no quality standard {product}/{grade}")
        s.expunge(row)
    return row


@kind("quality_standard")
def quality_standard(params: dict, ctx: Context) -> Fact:
    """What the reference table requires for a product and grade: at least three of the summary's
    distinctive words (or all, when it has fewer)."""
    row = _standard(ctx, params["product"], params["grade"])
    reference = words(row.summary)
    return enough_words(f"the {row.product}/{row.grade} requirement", reference)


@kind("quality_source")
def quality_source(params: dict, ctx: Context) -> Fact:
    row = _standard(ctx, params["product"], params["grade"])
    reference = words(row.source, minimum=4)
    return enough_words(f"the source of {row.product}/{row.grade}", reference, min(2, len(reference)))


@kind("no_standard")
def no_standard(params: dict, ctx: Context) -> Fact:
    """The table has nothing for that product (or grade): the answer says so, in any words."""
    with session_scope(ctx.database_url) as s:
        query = select(QualityStandard.id).where(QualityStandard.product == params["product"])
        if params.get("grade"):
            query = query.where(QualityStandard.grade == params["grade"])
        if s.execute(query).first() is not None:
            raise Unresolvable(f"the table does have {dict(params)}")
    return any_pattern(
        f"no requirement on record for {params['product']} {params.get('grade', '')}".strip(),
        [
            r"no tengo",
            r"todavia no",
            r"no hay (?:requisitos|datos|informacion)",
            r"no (?:esta|estan) en",
            r"no cuento con",
        ],
    )


@kind("official_norm_claim")
def official_norm_claim(params: Any, ctx: Context) -> Fact:
    """(must_not) calling a reference table 'la norma oficial'."""
    return any_pattern(
        "calls it the official norm",
        [r"(?<!no es )(?<!no son )\bla norma oficial", r"segun la norma oficial"],
    )


# --- explanations and how-tos -------------------------------------------------------------------

# Words that show a term was explained (cause, meaning or what to do), beyond its bare name.
CONCEPTS: dict[str, list[str]] = {
    "mechanical_damage": [
        r"magull",
        r"\bcaid",
        r"se (?:cae|caen|golpea)",
        r"aplast",
        r"\bmanej",
        r"al cosechar",
        r"transport",
        r"con cuidado",
        r"rozadur",
        r"impacto",
    ],
    "ripeness": [
        r"materia seca",
        r"aceite",
        r"\btiern",
        r"antes de tiempo",
        r"sobremadur",
        r"inmadur",
        r"muy verde",
        r"punto de corte",
        r"fruta pasada",
        r"cort\w* (?:temprano|antes)",
    ],
    "size_out_of_range": [
        r"muy (?:chic|pequen|grande)",
        r"mas (?:chic|pequen|grande)\w* (?:de lo|que)",
        r"fuera del? (?:rango|tamano|medida)",
        r"tamano",
        r"no (?:entra|cabe) en",
    ],
    "pests": [
        r"insecto",
        r"bicho",
        r"gusano",
        r"barrenador",
        r"acaro",
        r"mosca",
        r"piquet",
        r"cicatri",
        r"monitore",
    ],
    "disease": [r"hongo", r"antracnosis", r"mancha", r"pudri", r"podrid", r"\brona\b"],
    "sunburn": [r"amarill", r"expuest", r"del sol", r"sombra", r"\bcalor", r"\briego\b", r"mancha"],
    "other": [r"otro defecto", r"defectos? que"],
    "missing_cfdi_xml": [
        r"\bxml\b.{0,40}\b(?:mand|envi|sub|entreg|pid)",
        r"(?:mand|envi|sub|entreg|pid)\w* (?:el|su) xml",
        r"validez",
        r"valor fiscal",
        r"el pdf no",
    ],
    "rfc_mismatch": [
        r"\bsat\b",
        r"constancia",
        r"regimen",
        r"codigo postal",
        r"razon social",
        r"corrig",
        r"nueva factura",
    ],
    "amount_mismatch": [
        r"nueva factura",
        r"cancel",
        r"corrig",
        r"volver a",
        r"rehac",
        r"otra factura",
        r"kilos aceptad",
    ],
    "duplicate_invoice": [r"ya se habia", r"dos veces", r"repetid", r"otra vez", r"ya (?:la )?tenia"],
    "bank_account": [r"clabe", r"estado de cuenta", r"deposito", r"banco"],
    "status_on_hold": [
        r"detenid",
        r"no se (?:le )?(?:puede )?pag",
        r"hasta que (?:se )?(?:corrija|resuelva|arregle|mande|envie|entregue)",
        r"se (?:resuelva|arregle|corrija)",
        r"mientras",
    ],
    "status_rejected": [
        r"no se (?:va a )?pag",
        r"nueva factura",
        r"corrig",
        r"volver a",
        r"otra factura",
        r"emit\w* (?:una|otra|de nuevo)",
        r"no (?:la )?acept",
    ],
    "status_in_review": [
        r"revisando",
        r"verific",
        r"checando",
        r"validando",
        r"esta viendo",
        r"todavia no",
        r"aun no",
    ],
    "cfdi": [r"factura electronica", r"\bsat\b", r"timbr", r"comprobante fiscal", r"xml es", r"archivo xml"],
    "calibre": [r"\bcaja\b", r"caben", r"cuantos aguacates", r"frutos? por caja", r"11\.3"],
    "inocuidad": [r"enferm", r"salud", r"consumidor", r"limpi", r"higiene", r"contamin", r"buenas practicas"],
    "xml": [
        r"factura electronica",
        r"\bsat\b",
        r"validez",
        r"valor fiscal",
        r"el pdf no",
        r"pdf no (?:basta|sirve|vale)",
        r"xml es",
    ],
    "rfc": [r"registro federal", r"\bsat\b", r"contribuyente", r"clave", r"datos fiscales"],
}


def _table_rows(ctx: Context, sql: str, params: dict) -> list[Mapping[str, Any]]:
    """Rows of a table that may not exist yet in this stack's database (explanations, FAQ)."""
    try:
        with session_scope(ctx.database_url) as s:
            return [dict(r._mapping) for r in s.execute(text(sql), params)]
    except Exception:  # the table is not there: only the meaning words count
        return []


PLACEHOLDER_SPAN = re.compile(r"\[\s*por llenar[^\]]*\]", re.I)


def _record_words(row: Mapping[str, Any], keys: tuple[str, ...], title_key: str | None) -> list[str]:
    """The distinctive words of a record's text, less its title's and any placeholder's."""
    title = set(words(str(row.get(title_key) or ""))) if title_key else set()
    body = PLACEHOLDER_SPAN.sub(" ", " ".join(str(row.get(k) or "") for k in keys))
    found = [w for w in words(body) if w not in title]
    return found if len(found) >= 3 else []


def explanation_code(params: dict, ctx: Context) -> str:
    if "code" in params:
        return str(params["code"])
    d = delivery(ctx, {"delivery": "latest_rejected", **params})
    codes = [r.reason for r in d.rejections]
    if not codes:
        raise Unresolvable("the delivery has no rejection reason")
    return codes[0]


@kind("explanation")
def explanation(params: dict, ctx: Context) -> Fact:
    """What a reason, status or term means or what to do about it: ``code`` (a rejection reason,
    hold reason, status_* or term), or the reason of a farmer's delivery. Found when the answer
    shares three distinctive words with the program's own explanation (explanations table), or
    uses words that explain it (CONCEPTS), not just its name."""
    code = explanation_code(params, ctx)
    alternatives: list[Fact] = []
    if code in CONCEPTS:
        alternatives.append(any_pattern(f"explains {code}", CONCEPTS[code]))
    for row in _table_rows(ctx, "SELECT * FROM explanations WHERE code = :code", {"code": code}):
        reference = _record_words(row, ("explanation", "what_to_do"), "title")
        if reference:
            alternatives.append(enough_words(f"the explanation of {code} on record", reference))
    if not alternatives:
        raise Unresolvable(f"nothing to explain {code} by")
    return either(f"explains {code}", alternatives)


HANDOVER = [
    r"pase su (?:pregunta|mensaje|solicitud|caso)",
    r"(?:asesor|persona|alguien)\w* (?:del programa )?le (?:escribira|contestara|llamara|respondera|marcara)",
    r"le (?:escribira|contestara|llamara|respondera) (?:un|una|el|la) (?:asesor|persona)",
    r"numero de solicitud",
    r"\bs-\d{3,}",
]
PLACEHOLDER = "[por llenar"

FAQ_CONCEPTS: dict[str, list[str]] = {
    "held_payment": [
        r"(?:mand|envi|sub|entreg|corrij|corrig)\w*.{0,30}\b(?:xml|factura|rfc|datos)",
        r"nueva factura",
        r"sigue su curso",
        r"vea el motivo",
        r"se libera",
    ],
    "send_xml": [
        r"correo",
        r"portal",
        r"adjunt",
        r"(?:mand|envi|sub|entreg)\w*.{0,30}\bxml",
        r"\bxml.{0,40}(?:mand|envi|sub|entreg)",
        r"quien le hace sus facturas",
        r"contador",
    ],
    "register": [r"para registrar", r"registrarse", r"hable con (?:el|su) tecnico", r"llame al"],
    "bank_details": [
        r"estado de cuenta",
        r"clabe",
        r"oficina",
        r"documento",
        r"identificacion",
        r"formato",
        r"caratula",
        r"actualizar sus datos",
        r"datos bancarios",
    ],
    "payment_time": [r"\b7 dias", r"siete dias", r"una semana"],
    "technician": [],
    "program_contact": [],
    "hours": [
        r"\d{1,2}(?::\d{2})? ?(?:am|pm|hrs|horas)",
        r"de lunes a",
        r"horario de atencion",
        r"a cualquier hora",
    ],
}


@kind("faq")
def faq(params: dict | str, ctx: Context) -> Fact:
    """A program how-to, by the FAQ's code: words that carry the how-to (FAQ_CONCEPTS), or three
    distinctive words of the FAQ's answer on record. Where the FAQ answer is still a placeholder
    staff have to fill, a handover to a person is the right answer."""
    code = params if isinstance(params, str) else params["code"]
    alternatives: list[Fact] = []
    if FAQ_CONCEPTS.get(code):
        alternatives.append(any_pattern(f"how-to {code}", FAQ_CONCEPTS[code]))
    for row in _table_rows(ctx, "SELECT * FROM faq_entries WHERE code = :code", {"code": code}):
        answer = str(row.get("answer") or "")
        if PLACEHOLDER in norm(answer):
            alternatives.append(any_pattern("handed to a person (FAQ still to be filled)", HANDOVER))
        reference = _record_words(row, ("answer",), "question")
        if reference:
            alternatives.append(enough_words(f"the FAQ answer {code} on record", reference))
    if code == "program_contact":
        alternatives.append(program_phone({}, ctx))
    if code in ("technician", "program_contact", "hours") and not alternatives:
        alternatives.append(any_pattern("handed to a person", HANDOVER))
    if not alternatives:
        raise Unresolvable(f"nothing to check the how-to {code} by")
    return either(f"how-to {code}", alternatives)


@kind("program_phone")
def program_phone(params: Any, ctx: Context) -> Fact:
    """The program's phone as the stack is configured (PROGRAM_PHONE, else the default)."""
    phone = ctx.env.get("PROGRAM_PHONE") or "800 000 0000"
    digits = re.sub(r"\D", "", phone)
    return any_pattern(f"the program phone {phone}", [r"[\s-]?".join(digits)])


@kind("handover")
def handover(params: Any, ctx: Context) -> Fact:
    """The farmer is told a person will answer."""
    return any_pattern("told a person will answer", HANDOVER)


@kind("human_request")
def human_request(params: dict | bool, ctx: Context) -> Fact:
    """A request for a person was recorded for this phone during this conversation (with the
    question attached when ``message_contains`` is given), and the farmer is told so."""
    params = params if isinstance(params, dict) else {}
    with session_scope(ctx.database_url) as s:
        rows = list(
            s.execute(
                select(HumanRequest).where(HumanRequest.phone == ctx.phone).order_by(HumanRequest.id.desc())
            ).scalars()
        )
        recorded = [
            (r.id, r.last_message or "", r.created_at)
            for r in rows
            if (r.created_at if r.created_at.tzinfo else r.created_at.replace(tzinfo=timezone.utc))
            >= ctx.started_at
        ]
    wanted = norm(params.get("message_contains", ""))
    matching = [r for r in recorded if wanted in norm(r[1])]
    told = any_pattern("", HANDOVER + [r"\bs-\d{3,}"])
    label = (
        "a request for a person" + (f' with "{wanted}"' if wanted else "") + " recorded and the farmer told"
    )

    def test(answer: str) -> str | None:
        if not matching:
            return None
        evidence = told.test(answer)
        return f"request S-{matching[0][0]:05d}; {evidence}" if evidence else None

    return Fact(label, test)


# --- the conversation itself --------------------------------------------------------------------

NOT_UNDERSTOOD = [
    r"no le entendi",
    r"sigo sin entender",
    r"no se a que se refiere",
    r"no lo se responder",
    r"esa opcion no esta",
]


@kind("not_understood")
def not_understood(params: Any, ctx: Context) -> Fact:
    """(must_not, usually) the assistant says it did not understand, or answers off the list."""
    return any_pattern("did not understand", NOT_UNDERSTOOD)


@kind("options")
def options(params: Any, ctx: Context) -> Fact:
    """A numbered list of options ('1. ...', '2. ...')."""
    return all_patterns("a numbered list of options", [r"(?:^|\s)1[.)] ", r"(?:^|\s)2[.)] "])


@kind("asks_check_code")
def asks_check_code(params: Any, ctx: Context) -> Fact:
    return any_pattern(
        "asks for the check code", [r"ultimos 4 numeros", r"\bnip\b", r"4 (?:numeros|digitos)"]
    )


# --- what every answer is checked for -----------------------------------------------------------

ERROR_TEXTS = [r"tuve un problema para consultar", r"tuvimos una falla"]
PLACEHOLDER_TEXTS = [r"por llenar"]  # a FAQ fact staff have not filled in yet, shown as it is
STACK_TRACE = [r"traceback", r"most recent call last", r"\b[a-z]+(?:error|exception)\b", r"line \d+, in "]


def global_problems(answer: str) -> list[str]:
    """What no answer may contain: the generic error apology or a stack trace."""
    plain = norm(answer)
    problems = [f"error apology ({p})" for p in ERROR_TEXTS if re.search(p, plain)]
    problems += [f"stack trace ({p})" for p in STACK_TRACE if re.search(p, plain)]
    problems += [f"placeholder shown ({p})" for p in PLACEHOLDER_TEXTS if re.search(p, plain)]
    return problems
