"""Small pure pieces of the data layer."""
from __future__ import annotations

import pytest

from bot.console import charts
from bot.console.data import CorrectionError, annotate, clean_tags, mask_amounts, parse_entities


def test_mask_amounts():
    assert mask_amounts("Su factura F-204518 por $37,765.00 ya está pagada") == \
        "Su factura F-204518 por $ ••••• ya está pagada"
    assert mask_amounts("le depositamos 1,200.50 pesos") == "le depositamos $ •••••"
    assert mask_amounts("calibre 32, 250 kg") == "calibre 32, 250 kg"


def test_parse_entities_and_annotate():
    text = "kiero [saber] del kalibre 32 de aguacate"
    entities = parse_entities(text, "calibre: 32\nproduct: Aguacate = aguacate hass", {"calibre", "product"})
    assert [e["entity"] for e in entities] == ["calibre", "product"]
    assert annotate(text, entities) == ('kiero (saber) del kalibre [32](calibre) de '
                                        '[aguacate]{"entity": "product", "value": "aguacate hass"}')
    with pytest.raises(CorrectionError):
        parse_entities(text, "grade: extra", {"calibre", "product", "grade"})
    with pytest.raises(CorrectionError):
        parse_entities(text, "nope: 32", {"calibre"})
    with pytest.raises(CorrectionError):
        parse_entities(text, "calibre: 32\ncalibre: 3", {"calibre"})


def test_clean_tags():
    assert clean_tags(" Pagos, pagos; Calibre  grande,, ") == "pagos,calibre grande"


def test_charts_are_plain_svg_with_titles():
    svg = charts.stacked_bars("Mensajes", ["1/11", "2/11"], {"whatsapp": [3, 0], "sms": [1, 2]},
                              {"whatsapp": "WhatsApp", "sms": "SMS"})
    assert svg.startswith("<svg") and "<title" in svg and "WhatsApp (3)" in svg
    assert "<script" not in svg
    bars = charts.hbars("Intenciones", [("greet <b>", 4)])
    assert "greet &lt;b&gt;" in bars
    assert charts._nice_max(0) == 4 and charts._nice_max(7) == 8 and charts._nice_max(37) == 40
