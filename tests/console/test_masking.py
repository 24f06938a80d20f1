"""Payment amounts hidden from viewers."""

from __future__ import annotations

from bot.console.masking import mask_amounts


def test_mask_amounts():
    assert (
        mask_amounts("Su factura F-204518 por $37,765.00 ya está pagada")
        == "Su factura F-204518 por $ ••••• ya está pagada"
    )
    assert mask_amounts("le depositamos 1,200.50 pesos") == "le depositamos $ •••••"
    assert mask_amounts("calibre 32, 250 kg") == "calibre 32, 250 kg"
