"""Bloqueos: the phones locked out of payment answers (until when, or held for staff), lifting a
lock, the numbers the webhook held back; resetting a farmer's PIN from their page. Every lift and
reset is audited; viewers see the list without whole folios and without buttons."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.console.schema import ConsoleAudit
from bot.db import session_scope
from bot.messaging.schema import InboundMessage
from bot.records.schema import Farmer, FarmerPhone, PhoneVerification
from bot.timeutil import utcnow
from tests.console.conftest import ADRIANA, ROSA, token_of


@pytest.fixture
def locks(console_env):
    """Rosa's phone held for staff after its third lock; Adriana's locked for 20 more minutes;
    Adriana with a PIN; a number held back by the webhook's rate limit."""
    now = utcnow()
    with session_scope(console_env.url) as session:
        ids = {
            phone: session.execute(select(FarmerPhone.farmer_id).where(FarmerPhone.phone == phone)).scalar()
            for phone in (ROSA, ADRIANA)
        }
        folios = {phone: session.get(Farmer, farmer_id).folio for phone, farmer_id in ids.items()}
        session.add_all(
            [
                PhoneVerification(
                    phone=ROSA,
                    farmer_id=ids[ROSA],
                    failed_attempts=0,
                    lockouts=3,
                    held_for_staff=True,
                    last_attempt_at=now - timedelta(minutes=5),
                ),
                PhoneVerification(
                    phone=ADRIANA,
                    farmer_id=ids[ADRIANA],
                    failed_attempts=0,
                    lockouts=1,
                    locked_until=now + timedelta(minutes=20),
                    last_attempt_at=now - timedelta(minutes=10),
                ),
            ]
        )
        session.get(Farmer, ids[ADRIANA]).pin_hash = "scrypt:not-a-real-hash"
        session.get(Farmer, ids[ADRIANA]).pin_set_at = now - timedelta(days=3)
        for i in range(3):
            session.add(
                InboundMessage(
                    message_sid=f"SMflood{i:04d}",
                    medium="sms",
                    phone="+525500000099",
                    from_address="+525500000099",
                    body="hola",
                    status="processed",
                    error="rate_limited",
                    received_at=now - timedelta(minutes=30 - i),
                )
            )
    yield {"ids": ids, "folios": folios}
    with session_scope(console_env.url) as session:
        for row in session.execute(select(PhoneVerification)).scalars():
            session.delete(row)
        for row in session.execute(
            select(InboundMessage).where(InboundMessage.phone == "+525500000099")
        ).scalars():
            session.delete(row)
        farmer = session.get(Farmer, ids[ADRIANA])
        farmer.pin_hash = farmer.pin_set_at = None


def test_officer_sees_locks_and_lifts_one(console_env, client_for, locks):
    client = client_for("officer")
    page = client.get("/bloqueos").get_data(as_text=True)
    assert "Rosa María Pérez Ruiz" in page and "Adriana Flores Ortiz" in page
    assert "hasta que el personal lo desbloquee" in page
    assert locks["folios"][ROSA] in page  # officers see whole folios
    assert page.count(">Desbloquear</button>") == 2
    assert "+525500000099" in page and "Números frenados por exceso de mensajes" in page

    token = token_of(client, "/bloqueos")
    lifted = client.post(
        "/bloqueos/desbloquear", data={"csrf_token": token, "phone": ROSA, "farmer_id": locks["ids"][ROSA]}
    )
    assert lifted.status_code == 302
    after = client.get("/bloqueos").get_data(as_text=True)
    assert "desbloqueado" in after and "Rosa María Pérez Ruiz" not in after
    again = client.post(
        "/bloqueos/desbloquear", data={"csrf_token": token, "phone": ROSA, "farmer_id": locks["ids"][ROSA]}
    )
    assert "ya no estaba bloqueado" in client.get(again.headers["Location"]).get_data(as_text=True)
    with session_scope(console_env.url) as session:
        row = session.execute(select(PhoneVerification).where(PhoneVerification.phone == ROSA)).scalar_one()
        assert not row.held_for_staff and row.lockouts == 0
        audited = (
            session.execute(select(ConsoleAudit).where(ConsoleAudit.action == "unlock_check")).scalars().all()
        )
    assert [(a.username, a.phone, a.farmer_id) for a in audited] == [("officer", ROSA, locks["ids"][ROSA])]


def test_viewer_sees_locks_without_folios_or_buttons(client_for, locks):
    page = client_for("viewer").get("/bloqueos").get_data(as_text=True)
    assert "Rosa María Pérez Ruiz" in page
    for folio in locks["folios"].values():
        assert folio not in page and f"PP-••••{folio[-2:]}" in page
    assert "Desbloquear" not in page


def test_officer_resets_a_pin_from_the_farmer_page(console_env, client_for, locks):
    farmer_id = locks["ids"][ADRIANA]
    viewer_page = client_for("viewer").get(f"/productores/{farmer_id}").get_data(as_text=True)
    assert "NIP personal" in viewer_page and "Restablecer NIP" not in viewer_page
    client = client_for("officer")
    page = client.get(f"/productores/{farmer_id}").get_data(as_text=True)
    assert "Restablecer NIP" in page
    token = token_of(client, f"/productores/{farmer_id}")
    done = client.post(f"/productores/{farmer_id}/nip", data={"csrf_token": token})
    assert done.status_code == 302
    after = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "NIP restablecido" in after and "Restablecer NIP" not in after and "no ha elegido NIP" in after
    with session_scope(console_env.url) as session:
        assert session.get(Farmer, farmer_id).pin_hash is None
        audited = (
            session.execute(select(ConsoleAudit).where(ConsoleAudit.action == "reset_pin")).scalars().all()
        )
    assert [(a.username, a.farmer_id) for a in audited] == [("officer", farmer_id)]


def test_viewing_the_locks_is_audited(console_env, client_for, locks):
    client_for("admin").get("/bloqueos")
    with session_scope(console_env.url) as session:
        last = session.execute(select(ConsoleAudit).order_by(ConsoleAudit.id.desc()).limit(1)).scalar_one()
    assert (last.username, last.action) == ("admin", "view_locks")
