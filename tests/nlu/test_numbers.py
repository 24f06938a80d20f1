"""Spanish numbers as farmers write them: weights and calibres in digits and words."""

import pytest

from bot.nlu.numbers import parse_calibre, parse_grams


@pytest.mark.parametrize(
    "text, grams",
    [
        ("200 gramos", 200),
        ("200 gr", 200),
        ("200g", 200),
        ("0.2 kg", 200),
        ("0,25 kilos", 250),
        ("doscientos gramos", 200),
        ("trescientos cincuenta gramos", 350),
        ("medio kilo", 500),
        ("un aguacate de ciento ochenta gramos", 180),
        ("que calibre es", None),
        ("3 kilos", None),
    ],
)
def test_weights_as_farmers_write_them(text, grams):
    assert parse_grams(text) == grams


@pytest.mark.parametrize(
    "text, calibre",
    [
        ("calibre 48", 48),
        ("calibre cuarenta y ocho", 48),
        ("del 60", 60),
        ("cal 36", 36),
        ("calibre sesenta", 60),
        ("que calibres compran", None),
    ],
)
def test_calibres_in_digits_and_words(text, calibre):
    assert parse_calibre(text) == calibre
