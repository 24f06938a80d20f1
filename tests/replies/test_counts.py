"""Words that count: wherever a number meets a noun (intentos, kilos, lugares, facturas), the noun
and its verb agree with the number. Every template with a count field is rendered with 0, 1 and 2;
"1 facturas", "Le quedan 1 intentos" or "2 factura" fail."""

from __future__ import annotations

import re
from decimal import Decimal
from string import Formatter

import pytest

from bot.replies.catalog import COUNT_FIELDS, TEMPLATES, render
from bot.replies.spanish import kilos
from tests.replies.samples import SAMPLES

# Nouns and verbs that come with a number in the farmers' replies, singular and plural.
NOUNS = {
    "intento": "intentos",
    "factura": "facturas",
    "kilo": "kilos",
    "lugar": "lugares",
    "pago": "pagos",
    "entrega": "entregas",
    "capacitación": "capacitaciones",
    "inscripción": "inscripciones",
    "fruto": "frutos",
    "aguacate": "aguacates",
    "caja": "cajas",
    "día": "días",
    "persona": "personas",
}
VERBS = {"queda": "quedan", "rechazó": "rechazaron", "aceptó": "aceptaron", "entregó": "entregaron"}
NUMBER = re.compile(r"(?:(\w+) )?\b(\d+)(?: kg)? (\w+)")


def fields(template: str) -> set[str]:
    return {field for _, field, _, _ in Formatter().parse(template) if field}


def counted_templates() -> list[str]:
    """Every template (not the variants for one) with a count field."""
    return sorted(n for n, t in TEMPLATES.items() if ":" not in n and fields(t) & set(COUNT_FIELDS))


def disagreements(text: str) -> list[str]:
    """Each number that a noun or verb around it does not agree with."""
    found = []
    for before, digits, after in NUMBER.findall(text):
        one = int(digits) == 1
        nouns = set(NOUNS.values()) if one else set(NOUNS)
        verbs = set(VERBS.values()) if one else set(VERBS)
        if after.lower() in nouns or before.lower() in verbs:
            found.append(f"{before} {digits} {after}".strip())
    return found


def rendered(name: str, number: int) -> str:
    values: dict[str, object] = {field: SAMPLES[field] for field in fields(TEMPLATES[name])}
    for field in set(COUNT_FIELDS) & set(values):
        values[field] = kilos(Decimal(number)) if field == "kg" else number
    return render(name, **values)


def test_the_check_catches_what_the_issue_saw():
    assert disagreements("Le quedan 1 intentos.") == ["quedan 1 intentos"]
    assert disagreements("Tiene 1 facturas más.") == ["Tiene 1 facturas"]
    assert disagreements("Se rechazaron 1 kg por madurez.") == ["rechazaron 1 por"]
    assert disagreements("Le quedan 2 intento.") == ["quedan 2 intento"]
    assert disagreements("Le queda 1 intento. Le quedan 2 intentos. Se rechazaron 0 kg por golpes.") == []


def test_there_are_templates_with_counts():
    assert {"code_wrong", "history_year", "history_month", "history_more", "invoice_rejection"} <= set(
        counted_templates()
    )


@pytest.mark.parametrize("name", counted_templates())
@pytest.mark.parametrize("number", [0, 1, 2])
def test_every_number_agrees_with_its_noun(name, number):
    text = rendered(name, number)
    assert str(number) in text, f"{name}: the count is not said ({text!r})"
    assert disagreements(text) == [], f"{name} with {number}: {text!r}"


def test_a_variant_for_one_says_the_same_with_the_same_fields():
    variants = [n for n in TEMPLATES if n.endswith(":1")]
    assert variants
    for variant in variants:
        base = variant.removesuffix(":1")
        assert base in TEMPLATES and fields(TEMPLATES[variant]) == fields(TEMPLATES[base]), variant


def test_render_picks_the_variant_for_one():
    assert render("code_wrong", left=1).endswith("Le queda 1 intento.")
    assert render("code_wrong", left=2).endswith("Le quedan 2 intentos.")
    assert render("invoice_rejection", kg="1 kg", reasons="madurez") == "Se rechazó 1 kg por madurez."
    assert render("invoice_rejection", kg="11 kg", reasons="madurez") == "Se rechazaron 11 kg por madurez."
