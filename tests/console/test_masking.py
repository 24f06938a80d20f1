"""What staff must not read: payment amounts (viewers), whole folios (viewers), codes (anyone)."""

from __future__ import annotations

import json

import pytest

from bot.console.masking import mask_amounts, mask_codes, mask_entities_json, mask_folio


def test_mask_amounts():
    assert (
        mask_amounts("Su factura F-204518 por $37,765.00 ya está pagada")
        == "Su factura F-204518 por $ ••••• ya está pagada"
    )
    assert mask_amounts("le depositamos 1,200.50 pesos") == "le depositamos $ •••••"
    assert mask_amounts("calibre 32, 250 kg") == "calibre 32, 250 kg"


def test_mask_folio_keeps_the_last_two_digits():
    assert mask_folio("PP-108204") == "PP-••••04"
    assert mask_folio("PP-014237") == "PP-••••37"
    assert mask_folio("") == ""


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("8204", "••••"),
        ("mi codigo es 8204 gracias", "mi codigo es •••• gracias"),
        ("82 04", "•• ••"),
        ("8-2-0-4", "•-•-•-•"),
        ("0117.", "••••."),
        ("PP-108204", "PP-••••04"),
        ("mi folio es pp 630942", "mi folio es pp ••••42"),
        # what is not a code stays: invoice folios, calibres, weights, amounts, longer numbers
        ("factura F-204518", "factura F-204518"),
        ("calibre 32 de 250 gramos", "calibre 32 de 250 gramos"),
        ("me pagaron $37,765.00", "me pagaron $37,765.00"),
        ("12345", "12345"),
    ],
)
def test_mask_codes(typed, stored):
    assert mask_codes(typed) == stored
    assert len(mask_codes(typed)) == len(typed)  # entity offsets stay right


def test_mask_entities_json():
    entities = [
        {"entity": "weight", "value": "8204", "start": 0, "end": 4},
        {"entity": "calibre", "value": 32},
    ]
    masked = json.loads(mask_entities_json(json.dumps(entities)))
    assert masked[0]["value"] == "••••" and masked[1]["value"] == 32
    unchanged = json.dumps([{"entity": "calibre", "value": "32"}])
    assert mask_entities_json(unchanged) is unchanged
    assert mask_entities_json(None) is None
