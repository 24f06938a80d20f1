"""Attacks on the check before payment answers: many wrong codes at once, from parallel database
connections (as several processes or machines would send them), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, select

from bot.config import settings
from bot.db import session_scope
from bot.records.privacy import CheckResult, check_code, locked_phones, verification_state
from bot.records.schema import Farmer, FarmerPhone, PhoneVerification

ADRIANA = "+522441000003"
ATTEMPTS = 20


def _adriana(url: str) -> int:
    with session_scope(url) as s:
        s.execute(delete(PhoneVerification).where(PhoneVerification.phone == ADRIANA))
        return s.execute(select(FarmerPhone.farmer_id).where(FarmerPhone.phone == ADRIANA)).scalar_one()


def _answer_at_once(url: str, farmer_id: int, codes: list[str]) -> list:
    """Each code from its own thread and database connection, all released together."""
    outcomes: list = []
    barrier = threading.Barrier(len(codes))
    config = settings()

    def answer(code: str) -> None:
        barrier.wait()
        for _ in range(
            50
        ):  # SQLite's "database is locked" and PostgreSQL's serialisation: retry, as the app would
            try:
                with session_scope(url) as s:
                    farmer = s.get(Farmer, farmer_id)
                    outcomes.append(check_code(s, ADRIANA, farmer, code, config))
                return
            except Exception as error:
                if (
                    "locked" not in str(error)
                    and "serializ" not in str(error)
                    and "deadlock" not in str(error)
                ):
                    raise

    threads = [threading.Thread(target=answer, args=(code,)) for code in codes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_twenty_wrong_codes_at_once_are_compared_at_most_the_allowed_number_of_times(seeded_db, attack):
    farmer_id = _adriana(seeded_db)
    outcomes = _answer_at_once(seeded_db, farmer_id, [f"{1000 + i}" for i in range(ATTEMPTS)])
    compared = [o for o in outcomes if o.compared]
    allowed = settings().verification_max_attempts
    attack(
        f"{ATTEMPTS} wrong codes for one phone and farmer at once, each on its own connection",
        f"{len(outcomes)} answered, {len(compared)} compared, {len(outcomes) - len(compared)} refused unread, "
        f"locked: {bool(locked_phones_of(seeded_db))}",
    )
    assert len(outcomes) == ATTEMPTS
    assert len(compared) == allowed
    assert [o.result for o in compared].count(CheckResult.LOCKED) == 1  # the last allowed one locks
    assert all(o.result is CheckResult.LOCKED for o in outcomes if not o.compared)
    with session_scope(seeded_db) as s:
        state = verification_state(s, ADRIANA, farmer_id)
        assert state.locked and not state.verified


def test_the_right_code_among_a_burst_of_wrong_ones_never_beats_the_count(seeded_db, attack):
    """A burst of wrong codes with the right one among them: the right one resets the count (the
    farmer proved who they are), but never more than the allowed number of wrong answers are read
    in a row, whatever the order the database serialises them in."""
    farmer_id = _adriana(seeded_db)
    codes = [f"{2000 + i}" for i in range(ATTEMPTS - 1)] + ["1365"]
    outcomes = _answer_at_once(seeded_db, farmer_id, codes)  # in the order they were compared
    compared = [o for o in outcomes if o.compared]
    verified = [o for o in outcomes if o.result is CheckResult.VERIFIED]
    runs, run = [], 0
    for outcome in compared:
        run = 0 if outcome.result is CheckResult.VERIFIED else run + 1
        runs.append(run)
    attack(
        f"{ATTEMPTS - 1} wrong codes and the right one at once",
        f"{len(compared)} compared, verified: {bool(verified)}, longest run of wrong answers read: {max(runs)}",
    )
    assert max(runs) <= settings().verification_max_attempts
    assert len(verified) <= 1
    assert len(compared) <= 2 * settings().verification_max_attempts + 1


def locked_phones_of(url: str) -> list:
    with session_scope(url) as s:
        return [p for p in locked_phones(s) if p.phone == ADRIANA]


@pytest.fixture(autouse=True)
def _clean(seeded_db):
    yield
    _adriana(seeded_db)


# -- over signed webhooks, through the running stack ------------------------------------------


@pytest.mark.rasa
def test_wrong_codes_sent_at_once_over_webhooks_are_compared_at_most_the_allowed_number(
    rasa_stack, stack_env, attack
):
    """The same attack as a farmer's phone (or a script) would send it: ten signed webhooks with
    wrong codes at once, after a payment question. The channel's per-farmer lock serialises them;
    the count in the database decides."""
    from concurrent.futures import ThreadPoolExecutor

    from bot.phones import twilio_address
    from bot.records.consents import record_consent
    from bot.twilio_standin.client import signed_post, webhook_params
    from tests.conftest import TWILIO_PUBLIC_BASE_URL, TWILIO_TEST_TOKEN

    url, standin = rasa_stack["url"], stack_env["standin"]
    standin.control(reset=True, callback_base=url)
    database = rasa_stack["database_url"]
    with session_scope(database) as s:
        s.execute(delete(PhoneVerification).where(PhoneVerification.phone == ADRIANA))
        record_consent(s, ADRIANA, accepted=True)
    address, path = twilio_address(ADRIANA, "sms"), "/webhooks/sms/webhook"

    def send(body: str) -> int:
        params = webhook_params(ADRIANA, "sms", body)
        status, _answer, _ = signed_post(
            url + path, params, TWILIO_TEST_TOKEN, public_url=TWILIO_PUBLIC_BASE_URL + path
        )
        return status

    before = len(standin.messages(to=address))
    assert send("cuando me pagan") == 200
    asked = standin.wait_for(before + 1, to=address, timeout=60)[before:]
    assert asked and "4 números" in asked[-1]["body"].replace("numeros", "números")
    with ThreadPoolExecutor(max_workers=ATTEMPTS // 2) as pool:
        statuses = list(pool.map(send, [f"{3000 + i}" for i in range(ATTEMPTS // 2)]))
    replies = standin.wait_for(before + 1 + ATTEMPTS // 2, to=address, timeout=120)[before + 1 :]
    bodies = [r["body"] for r in replies]
    wrong = [b for b in bodies if "no coincide" in b]
    locked = [b for b in bodies if "bloqueadas" in b]
    with session_scope(database) as s:
        row = s.execute(select(PhoneVerification).where(PhoneVerification.phone == ADRIANA)).scalar_one()
        lockouts, verified = row.lockouts, row.verified_until
    attack(
        f"{ATTEMPTS // 2} signed SMS webhooks with wrong codes at once, after a payment question",
        f"all {set(statuses)}; {len(wrong)} 'try again', {len(locked)} lock answers, lockouts {lockouts}",
    )
    assert statuses == [200] * (ATTEMPTS // 2)
    allowed = settings().verification_max_attempts
    assert len(wrong) == allowed - 1 and len(locked) == ATTEMPTS // 2 - (allowed - 1)
    assert lockouts == 1 and verified is None
    assert not any("$" in body for body in bodies)
    with session_scope(database) as s:
        s.execute(delete(PhoneVerification).where(PhoneVerification.phone == ADRIANA))
