"""Twilio settings: from the environment, overridden by credentials.yml, per medium."""

from __future__ import annotations

import pytest
import yaml

from bot.channels.twilio_channels import SmsInput, WhatsAppInput
from bot.messaging.config import (
    CREDENTIALS_FILE,
    CREDENTIALS_KEYS,
    StandinConflict,
    TwilioSettings,
    account_source,
    settings_for_medium,
    use_standin,
)

TWILIO_ENV = {
    "TWILIO_ACCOUNT_SID": "ACtest",
    "TWILIO_AUTH_TOKEN": "test-token",
    "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
    "TWILIO_SMS_FROM": "+15005550006",
}


@pytest.fixture
def twilio_env(monkeypatch):
    for name in (
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_WHATSAPP_FROM",
        "TWILIO_SMS_FROM",
        "TWILIO_MESSAGING_SERVICE_SID",
        "TWILIO_PUBLIC_BASE_URL",
        "TWILIO_API_BASE",
        "TWILIO_SEND_ATTEMPTS",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_credentials_keys_are_the_channels_import_paths_and_credentials_yml_has_them():
    assert {
        "whatsapp": f"{WhatsAppInput.__module__}.{WhatsAppInput.__qualname__}",
        "sms": f"{SmsInput.__module__}.{SmsInput.__qualname__}",
    } == CREDENTIALS_KEYS
    assert {WhatsAppInput.name(), SmsInput.name()} == set(CREDENTIALS_KEYS)
    credentials = yaml.safe_load(CREDENTIALS_FILE.read_text(encoding="utf-8"))
    assert set(CREDENTIALS_KEYS.values()) <= set(credentials)


def test_no_account_no_settings(twilio_env):
    assert settings_for_medium("sms") is None
    assert settings_for_medium("whatsapp") is None


@pytest.mark.parametrize("medium", ["sms", "whatsapp"])
def test_the_environment_is_enough_to_send(twilio_env, medium):
    for name, value in TWILIO_ENV.items():
        twilio_env.setenv(name, value)
    settings = settings_for_medium(medium)
    assert settings is not None
    assert (settings.account_sid, settings.auth_token) == ("ACtest", "test-token")
    assert settings.sender_for(medium) == {
        "from_": "whatsapp:+14155238886" if medium == "whatsapp" else "+15005550006"
    }


def test_no_sender_for_the_medium_no_settings(twilio_env):
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_WHATSAPP_FROM"):
        twilio_env.setenv(name, TWILIO_ENV[name])
    assert settings_for_medium("whatsapp") is not None
    assert settings_for_medium("sms") is None
    assert settings_for_medium("fax") is None


def test_a_credentials_yml_entry_overrides_the_environment_for_its_medium(twilio_env, tmp_path):
    for name, value in TWILIO_ENV.items():
        twilio_env.setenv(name, value)
    credentials = tmp_path / "credentials.yml"
    credentials.write_text(
        "rest:\n"
        f"{CREDENTIALS_KEYS['sms']}:\n  sms_from: '+15005550009'\n  send_attempts: 2\n"
        f"{CREDENTIALS_KEYS['whatsapp']}:\n",
        encoding="utf-8",
    )
    sms = settings_for_medium("sms", credentials_file=credentials)
    assert sms.sms_from == "+15005550009" and sms.send_attempts == 2
    whatsapp = settings_for_medium("whatsapp", credentials_file=credentials)
    assert whatsapp.sms_from == "+15005550006" and whatsapp.send_attempts == 4


def test_an_unreadable_credentials_yml_leaves_the_environment(twilio_env, tmp_path):
    for name, value in TWILIO_ENV.items():
        twilio_env.setenv(name, value)
    broken = tmp_path / "credentials.yml"
    broken.write_text("rest: [unclosed\n", encoding="utf-8")
    for path in (broken, tmp_path / "missing.yml"):
        assert settings_for_medium("sms", credentials_file=path).sms_from == "+15005550006"


# -- which Twilio the channels talk to: never the stand-in over a real account -------------------


def test_the_standin_only_without_an_account_or_when_asked_for(tmp_path):
    empty = tmp_path / "credentials.yml"
    empty.write_text("bot.channels.twilio_channels.SmsInput:\n", encoding="utf-8")
    with_account = tmp_path / "with_account.yml"
    with_account.write_text(
        "bot.channels.twilio_channels.SmsInput:\n  account_sid: ACreal\n", encoding="utf-8"
    )
    account = {"TWILIO_ACCOUNT_SID": "ACreal", "TWILIO_AUTH_TOKEN": "real"}

    def standin(environ, credentials, development=True):
        return use_standin(development=development, environ=environ, credentials_file=credentials)

    assert standin({}, empty) is True  # make run, nothing configured
    assert standin({}, empty, development=False) is False  # anything else must ask
    assert standin({"TWILIO_USE_STANDIN": "1"}, empty, development=False) is True
    assert standin(account, empty) is False  # a real account in the environment wins
    assert standin({}, with_account) is False  # ... or in credentials.yml
    for environ, credentials in (
        (dict(account, TWILIO_USE_STANDIN="1"), empty),
        ({"TWILIO_USE_STANDIN": "1"}, with_account),
    ):
        with pytest.raises(StandinConflict):
            standin(environ, credentials)
    assert account_source(account, empty) == "the environment"
    assert account_source({}, with_account) == "with_account.yml"


def test_webhook_limits_from_the_environment():
    settings = TwilioSettings.from_env(
        environ={"TWILIO_MAX_BODY_BYTES": "1024", "TWILIO_RATE_LIMIT_PER_MINUTE": "5"}
    )
    assert (settings.max_body_bytes, settings.rate_limit_per_minute) == (1024, 5)
    assert (TwilioSettings().max_body_bytes, TwilioSettings().rate_limit_per_minute) == (65536, 30)
