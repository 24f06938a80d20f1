"""Phone numbers: every form of a farmer's number is one number; a foreign number stays foreign;
an impossible one is refused. Property-based tests (hypothesis) over generated numbers."""

import re

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


@pytest.mark.parametrize("raw", ["", "hola", "12345", "whatsapp:", "+52123", "+999999", "443 100 0001 ext"])
def test_non_numbers_are_refused(raw):
    with pytest.raises(InvalidPhone):
        normalize_phone(raw)


def test_a_foreign_number_stays_in_its_country():
    # this Icelandic number once became the Michoacan number +523541234567
    assert normalize_phone("+3541234567") == "+3541234567"
    assert normalize_phone("whatsapp:+14155238886") == "+14155238886"


E164 = re.compile(r"^\+[1-9]\d{7,14}$")
MX_NATIONAL = st.from_regex(r"\A[2-9][0-9]{9}\Z")
FORMS = (
    "whatsapp:+521{n}",
    "+52{n}",
    "+52 {a} {b} {c}",
    "{a}-{b}-{c}",
    "({a}) {b} {c}",
    "52{n}",
    "521{n}",
    "0052{n}",
    "sms:+52{n}",
    "{n}",
)
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(national=MX_NATIONAL, form=st.sampled_from(FORMS))
def test_every_form_of_a_possible_mexican_number_is_one_farmer(national, form):
    parsed = phonenumbers.parse("+52" + national, None)
    written = form.format(n=national, a=national[:3], b=national[3:6], c=national[6:])
    if phonenumbers.is_possible_number(parsed):
        assert normalize_phone(written) == "+52" + national
    else:
        with pytest.raises(InvalidPhone):
            normalize_phone(written)


FOREIGN_REGIONS = sorted(r for r in phonenumbers.SUPPORTED_REGIONS if r != "MX")


@PROPERTY
@given(region=st.sampled_from(FOREIGN_REGIONS), data=st.data())
def test_a_possible_foreign_number_keeps_its_country(region, data):
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE) or (
        phonenumbers.example_number(region)
    )
    if example is None:
        return
    national = str(example.national_number)
    # a number of the same length that starts like the region's own mobile numbers
    rest = data.draw(st.text(alphabet="0123456789", min_size=len(national) - 1, max_size=len(national) - 1))
    digits = national[0] + rest
    candidate = phonenumbers.parse(f"+{example.country_code}{digits}", None)
    if not phonenumbers.is_possible_number(candidate) or candidate.country_code == 52:
        return
    e164 = phonenumbers.format_number(candidate, phonenumbers.PhoneNumberFormat.E164)
    assert normalize_phone(e164) == e164
    assert normalize_phone("whatsapp:" + e164) == e164


@PROPERTY
@given(raw=st.text(max_size=40))
def test_any_text_is_a_number_in_e164_or_refused_and_reading_it_twice_changes_nothing(raw):
    try:
        phone = normalize_phone(raw)
    except InvalidPhone:
        return
    assert E164.match(phone), phone
    assert normalize_phone(phone) == phone
