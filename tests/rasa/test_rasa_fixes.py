"""bot/rasa_fixes.py: the action server's answer checked with a validator built once decides as
Rasa's own check does, and fails with Rasa's own error."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot import rasa_fixes
from bot.stack import CREDENTIALS, Api, rasa_run_command, rasa_shell_command

SLOT = {"event": "slot", "timestamp": None, "name": "phone_verified", "value": True}
BOT = {"event": "bot", "timestamp": None, "text": "Su pago está en proceso.", "data": {}}
ANSWERS = [
    {"events": [SLOT, BOT], "responses": [{"text": "Hola"}]},
    {"events": [], "responses": []},
    {},
    {"events": [{"event": "followup", "name": "action_listen", "timestamp": 1.5}]},
]
WRONG = [
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"name": "slot without its kind"}]},
    {"events": "not a list"},
    {"responses": [1, 2]},
    [],
    "text",
]


def _rasa_verdict(answer: object) -> str | None:
    try:
        validate(answer, RemoteAction.action_response_format_spec())
    except ValidationError as exc:
        return exc.message
    return None


def _fixed_verdict(answer: object) -> str | None:
    action = RemoteAction("action_test", EndpointConfig("http://127.0.0.1:1"))
    try:
        assert action._validate_action_result(answer) is True  # type: ignore[arg-type]
    except ValidationError as exc:
        return exc.message
    return None


@pytest.fixture(autouse=True)
def _fixed():
    rasa_fixes.apply()
    rasa_fixes.apply()  # idempotent
    yield


def test_rasa_still_checks_the_answer_where_the_fix_replaces_it():
    # a Rasa upgrade that renames the check would leave the fix applied to nothing
    assert RemoteAction._validate_action_result is rasa_fixes._validate_action_result
    assert rasa_fixes._RASA_CHECK.__qualname__ == "RemoteAction._validate_action_result"


@pytest.mark.parametrize("answer", ANSWERS)
def test_a_valid_answer_passes_as_with_rasa(answer):
    assert _rasa_verdict(answer) is None
    assert _fixed_verdict(answer) is None


@pytest.mark.parametrize("answer", WRONG)
def test_a_wrong_answer_fails_with_rasas_own_error_and_message(answer):
    rasas = _rasa_verdict(answer)
    assert rasas is not None
    fixed = _fixed_verdict(answer)
    assert fixed is not None and fixed.startswith(rasas)
    assert "Failed to validate Action server response from API" in fixed


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
EVENT = st.fixed_dictionaries(
    {"event": st.sampled_from(["slot", "bot", "user", "followup", "reset_slots", "nonsense", ""])},
    optional={"timestamp": JSON, "name": JSON, "value": JSON, "text": JSON, "data": JSON},
)
ANSWER = (
    st.fixed_dictionaries({}, optional={"events": st.lists(EVENT, max_size=3) | JSON, "responses": JSON})
    | JSON
)


@settings(max_examples=150, deadline=None)
@given(ANSWER)
def test_any_answer_gets_the_same_verdict_as_rasas(answer):
    rasas, fixed = _rasa_verdict(answer), _fixed_verdict(answer)
    assert (rasas is None) == (fixed is None)
    if rasas is not None:
        assert fixed is not None and fixed.startswith(rasas)


def test_make_run_and_make_chat_start_rasa_with_the_fixes(tmp_path):
    for command in (
        rasa_run_command("m.tar.gz", 5005, tmp_path / "e.yml", CREDENTIALS, Api()),
        rasa_shell_command("m.tar.gz", 5006, tmp_path / "e.yml", "+524431000001"),
    ):
        assert command[1:3] == ["-m", "bot.rasa_fixes"], command
    shown = subprocess.run(
        [sys.executable, "-m", "bot.rasa_fixes", "run", "--help"], capture_output=True, text=True, timeout=300
    )
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "--enable-api" in shown.stdout
