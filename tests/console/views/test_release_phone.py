"""A number changes hands, from the farmer's page: officers (the "edit" permission) mark a phone
as no longer the farmer's after ticking the confirmation, with an optional note; it is audited,
and the phone's link, check and consent stop applying. Viewers see no button and are refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.console.schema import ConsoleAudit
from bot.db import session_scope
from bot.records import consents
from bot.records.schema import FarmerPhone, PhoneRelease, PhoneVerification
from bot.timeutil import utcnow
from tests.console.conftest import ADRIANA, token_of

BUTTON = "Este número ya no es del productor"


@pytest.fixture(scope="module")
def adriana(console_env):
    """Adriana's farmer id, her phone verified and her consent recorded."""
    with session_scope(console_env.url) as s:
        farmer_id = s.execute(select(FarmerPhone.farmer_id).where(FarmerPhone.phone == ADRIANA)).scalar()
        s.add(
            PhoneVerification(phone=ADRIANA, farmer_id=farmer_id, verified_until=utcnow().replace(year=2099))
        )
        consents.record_consent(s, ADRIANA, accepted=True)
    return farmer_id


def _linked(url: str) -> bool:
    with session_scope(url) as s:
        return s.execute(select(FarmerPhone).where(FarmerPhone.phone == ADRIANA)).first() is not None


def test_viewer_sees_no_button_and_is_refused(console_env, client_for, adriana):
    client = client_for("viewer")
    page = client.get(f"/productores/{adriana}").get_data(as_text=True)
    assert ADRIANA in page and BUTTON not in page
    token = token_of(client, f"/productores/{adriana}")
    refused = client.post(
        f"/productores/{adriana}/telefonos/liberar",
        data={"csrf_token": token, "phone": ADRIANA, "confirm": "y"},
    )
    assert refused.status_code == 403 and _linked(console_env.url)


def test_officer_releases_a_phone_after_confirming(console_env, client_for, adriana):
    client = client_for("officer")
    url = f"/productores/{adriana}"
    page = client.get(url).get_data(as_text=True)
    assert BUTTON in page and 'name="confirm"' in page and "Quitar el número" in page
    token = token_of(client, url)
    action = f"{url}/telefonos/liberar"

    assert client.post(action, data={"phone": ADRIANA, "confirm": "y"}).status_code == 400  # no token
    unconfirmed = client.post(action, data={"csrf_token": token, "phone": ADRIANA, "note": "x"})
    assert unconfirmed.status_code == 302
    assert "Marque la casilla" in client.get(unconfirmed.headers["Location"]).get_data(as_text=True)
    assert _linked(console_env.url)

    done = client.post(
        action, data={"csrf_token": token, "phone": ADRIANA, "confirm": "y", "note": "Cambió de número"}
    )
    assert done.status_code == 302
    after = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "empezará como contacto nuevo" in after
    assert "Números que ya no son suyos" in after and "Cambió de número" in after
    assert BUTTON not in after  # her only phone is gone
    assert not _linked(console_env.url)
    with session_scope(console_env.url) as s:
        assert s.execute(select(PhoneVerification).where(PhoneVerification.phone == ADRIANA)).first() is None
        assert consents.latest_consent(s, ADRIANA) is None  # the next person is asked again
        release = s.execute(select(PhoneRelease).where(PhoneRelease.phone == ADRIANA)).scalar_one()
        assert (release.farmer_id, release.released_by, release.note) == (
            adriana,
            "officer",
            "Cambió de número",
        )
        audited = (
            s.execute(select(ConsoleAudit).where(ConsoleAudit.action == "release_phone")).scalars().all()
        )
    assert [(a.username, a.farmer_id, a.phone) for a in audited] == [("officer", adriana, ADRIANA)]

    again = client.post(action, data={"csrf_token": token, "phone": ADRIANA, "confirm": "y"})
    assert "ya no estaba registrado" in client.get(again.headers["Location"]).get_data(as_text=True)
    with session_scope(console_env.url) as s:
        assert len(s.execute(select(ConsoleAudit).where(ConsoleAudit.action == "release_phone")).all()) == 1
