"""The name of every step: a handler that only a numbered option or a resumed request reaches,
never the NLU (bot/assistant/skills.py maps each to its handler). Defined once, like intents."""

from __future__ import annotations

CONSENT_YES = "consent_yes"
CONSENT_NO = "consent_no"
FARMER_CHOSEN = "farmer_chosen"  # on a shared phone, with the farmer's id
ENROL_CONFIRMED = "enrol_confirmed"  # with the training's id
CANCEL_CONFIRMED = "cancel_confirmed"  # with the training's id
ATTENDANCE_CONFIRMED = "attendance_confirmed"  # with "training id:farmer id" (a reminder's "1")
NEWS_YES = "news_yes"  # yes to news of new trainings near the farmer
NEWS_NO = "news_no"
QUALITY_DETAIL = "quality_detail"  # with "product:grade"
DISMISS = "dismiss"
EXPLAIN = "explain"  # with an explanation's code
WHAT_TO_DO = "what_to_do"  # with an explanation's code
REVOKE_CONFIRMED = "revoke_confirmed"
MORE = "more"  # "MAS": the next page of the list just shown
STOP_MESSAGES = "stop_messages"  # "ya no me manden mensajes": how BAJA works
ACCOUNT_NUMBER = "account_number"  # a CLABE or card number written in the chat: never here
CHECK_WHY = "check_why"  # "¿y por qué?" when asked for the check code: why, and the question again
WHO_WHY = "who_why"  # "¿y eso por qué?" when asked who is writing on a shared phone

# What "sí" and "no" answer when one of these is on offer.
ANSWERED_BY_YES = (
    CONSENT_YES,
    ENROL_CONFIRMED,
    CANCEL_CONFIRMED,
    ATTENDANCE_CONFIRMED,
    NEWS_YES,
    QUALITY_DETAIL,
    REVOKE_CONFIRMED,
)
ANSWERED_BY_NO = (CONSENT_NO, NEWS_NO, DISMISS)


def with_arg(step: str, arg: object) -> str:
    """An option's key: the step and what it acts on ("enrol_confirmed:42")."""
    return f"{step}:{arg}"
