"""A farmer takes back their consent in the conversation (LFPDPPP): told what it means and asked
to confirm, recorded with its time, then treated as one who declined until consent is given
again. BAJA (stop messages) stays a different thing and the confirmation says so."""

from __future__ import annotations

from sqlalchemy import select

from bot.db import session_scope
from bot.records.consents import is_revoked
from bot.records.schema import Consent, PaymentAccessLog
from tests.assistant.phone import NEW, ROSA, Phone, accepted

ROSA_CODE = "8204"


def _views(db: str) -> int:
    with session_scope(db) as s:
        return len(list(s.execute(select(PaymentAccessLog).where(PaymentAccessLog.phone == ROSA)).scalars()))


def test_a_revoked_farmer_gets_no_payment_answer_until_consent_is_given_again(db):
    phone = accepted(Phone(ROSA))
    phone.send("ask_payment_status", "mis pagos")
    assert "F-3001" in phone.send("inform_number", ROSA_CODE)
    asked = phone.send("revoke_consent", "ya no quiero que usen mis datos")
    assert "REVOCO" in asked and "BAJA" in asked and "Confirma" in asked  # one line each
    with session_scope(db) as s:
        assert not is_revoked(s, ROSA)  # nothing recorded before the farmer confirms
    assert "revocación" in phone.send("affirm", "si")
    with session_scope(db) as s:
        assert is_revoked(s, ROSA)
        revocation = (
            s.execute(select(Consent).where(Consent.phone == ROSA).order_by(Consent.id.desc()))
            .scalars()
            .first()
        )
        assert revocation.kind == "revocation" and revocation.recorded_at is not None
    shown_before = _views(db)
    again = phone.send("ask_payment_status", "cuando me pagan")
    assert "F-3001" not in again and "Acepta" in again  # asked for consent again
    assert _views(db) == shown_before  # no payment data shown after the revocation
    phone.send("affirm", "acepto")  # consent given again
    with session_scope(db) as s:
        assert not is_revoked(s, ROSA)


def test_revoco_is_understood_whatever_the_nlu_said_and_no_is_kept(db):
    phone = accepted(Phone(ROSA))
    assert "Confirma" in phone.send("nlu_fallback", "REVOCO")
    phone.send("deny", "no")
    with session_scope(db) as s:
        assert not is_revoked(s, ROSA)


def test_nothing_to_revoke_without_consent(db):
    answer = Phone(NEW).send("revoke_consent", "borren mis datos")
    assert "No tenemos su permiso registrado" in answer
