import pytest

from bot.nlu.numbers import parse_calibre, parse_grams
from bot.phones import InvalidPhone, normalize_phone


@pytest.mark.parametrize(
    "raw",
    [
        "whatsapp:+5214431000001",
        "+524431000001",
        "+52 443 100 0001",
        "443-100-0001",
        "5214431000001",
        "00524431000001",
        "sms:+524431000001",
    ],
)
def test_every_form_of_a_mexican_mobile_is_one_number(raw):
    assert normalize_phone(raw) == "+524431000001"


@pytest.mark.parametrize("raw", ["", "hola", "12345", "whatsapp:"])
def test_non_numbers_are_refused(raw):
    with pytest.raises(InvalidPhone):
        normalize_phone(raw)


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
