"""The name of every intent the assistant understands, defined once.

An intent's name is also the name of the skill that answers it (bot/assistant/skills.py), of its
Rasa action (``action_<intent>``), and of the handler that numbered options and pending requests
point to. domain.yml, data/ and tests/ use these names; a test checks that they agree."""

from __future__ import annotations

GREET = "greet"
GOODBYE = "goodbye"
THANK = "thank"
AFFIRM = "affirm"
DENY = "deny"
HELP = "help"
INFORM_NUMBER = "inform_number"
ASK_PAYMENT_STATUS = "ask_payment_status"
ASK_TRAININGS = "ask_trainings"
ENROL_TRAINING = "enrol_training"
CANCEL_ENROLMENT = "cancel_enrolment"
ASK_QUALITY_STANDARD = "ask_quality_standard"
ASK_AVOCADO_SIZE = "ask_avocado_size"
REQUEST_HUMAN = "request_human"
SET_PIN = "set_pin"
ASK_DELIVERIES = "ask_deliveries"
ASK_PAYMENT_HISTORY = "ask_payment_history"
ASK_EXPLANATION = "ask_explanation"
ASK_HOWTO = "ask_howto"
ASK_MY_ENROLMENTS = "ask_my_enrolments"
FOLLOW_UP = "follow_up"
SEND_MEDIA = "send_media"
OUT_OF_SCOPE = "out_of_scope"
BOT_CHALLENGE = "bot_challenge"
REVOKE_CONSENT = "revoke_consent"
# Never from the NLU: the channels and workers give a released notice this intent (issue 14).
NOTICE = "notice"
# Rasa's own intent when the NLU is not confident enough (FallbackClassifier in config.yml).
NLU_FALLBACK = "nlu_fallback"
# Intents the NLU never predicts: no training data, given by Rasa or by our channels.
NOT_FROM_NLU = frozenset({NLU_FALLBACK, NOTICE})


def action_for(intent: str) -> str:
    """The Rasa action that answers an intent."""
    return f"action_{intent}"
