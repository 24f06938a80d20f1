"""Fuzzing the webhook's form: random bodies and random fields never raise out of the parser,
never give a row the database cannot keep, and never make the webhook answer 500 (signed or
not). Bounded: a few hundred examples, no deadline per example (each one is a real request)."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.messaging.inbound import Inbound
from bot.messaging.twilio_form import parse_form, parse_inbound
from bot.phones import InvalidPhone
from bot.twilio_standin.client import signed_post, webhook_params
from tests.support.channel_server import AUTH_TOKEN

TWILIO_FIELDS = [
    "MessageSid",
    "SmsMessageSid",
    "From",
    "To",
    "Body",
    "NumMedia",
    "MediaUrl0",
    "MediaContentType0",
    "Latitude",
    "Longitude",
    "Label",
    "Address",
    "ProfileName",
    "WaId",
]
ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)
NUMBERISH = st.sampled_from(
    ["0", "-1", "10", "99999999999999999999", "nan", "inf", "-inf", "1e308", "91", "-181"]
)
FIELD_VALUE = st.one_of(ANY_TEXT, NUMBERISH, st.just(""), st.just("\x00"))
FIELDS = st.dictionaries(st.one_of(st.sampled_from(TWILIO_FIELDS), ANY_TEXT), FIELD_VALUE, max_size=12)


def check_fits_the_columns(message: Inbound) -> None:
    """What inbound_messages must be able to keep, on SQLite and PostgreSQL alike."""
    texts = [message.message_sid, message.phone, message.from_address, message.to_address, message.body]
    texts += [message.profile_name or "", message.wa_id or ""]
    assert all("\x00" not in text for text in texts)
    assert len(message.phone) <= 20
    if message.location:
        assert -90 <= message.location["latitude"] <= 90
        assert -180 <= message.location["longitude"] <= 180


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_any_bytes_parse_to_a_form(body):
    params = parse_form(body)
    assert all(isinstance(v, list) for v in params.values())


@settings(max_examples=300, deadline=None)
@given(FIELDS, st.sampled_from(["sms", "whatsapp"]))
def test_any_fields_give_a_message_or_a_refused_number(fields, medium):
    params = parse_form(urllib.parse.urlencode(fields).encode())
    try:
        message = parse_inbound(medium, params)
    except InvalidPhone:
        return
    check_fits_the_columns(message)
    assert isinstance(message.kind, str)


def _raw_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096), st.sampled_from(["sms", "whatsapp"]), st.sampled_from(["webhook", "status"]))
def test_unsigned_random_bodies_never_get_a_500(channel_server, body, medium, path):
    url = f"{channel_server.url}/webhooks/{medium}/{path}"
    status = _raw_post(url, body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status in (403, 413)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FIELDS, st.sampled_from(["sms", "whatsapp"]), st.booleans())
def test_signed_random_fields_never_get_a_500(channel_server, fields, medium, realistic):
    """Signed with the right token, so every check after the signature is reached; half of the
    examples start from a real message (a usable From and MessageSid) and mangle it."""
    params = (
        dict(webhook_params("+52443" + str(uuid.uuid4().int)[:7], medium, "hola"), **fields)
        if realistic
        else fields
    )
    path = f"/webhooks/{medium}/webhook"
    status, _body, _seconds = signed_post(
        channel_server.url + path,
        {str(k): str(v) for k, v in params.items()},
        AUTH_TOKEN,
        public_url=channel_server.settings.public_base_url + path,
    )
    assert status in (200, 400), status
