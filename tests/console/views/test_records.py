"""Program records pages: a training's enrolment list, a farmer's file, the farmer search."""

from __future__ import annotations

from sqlalchemy import select

from bot.db import session_scope
from bot.records.schema import Farmer


def test_training_enrolment_list_and_farmer_pages(console_env, client_for):
    from bot.records.schema import Enrolment

    with session_scope(console_env.url) as session:
        enrolment = session.execute(
            select(Enrolment).where(Enrolment.status == "active").limit(1)
        ).scalar_one()
        training_id, farmer = enrolment.training_id, session.get(Farmer, enrolment.farmer_id)
        name, farmer_id = farmer.name, farmer.id
    client = client_for("viewer")
    page = client.get(f"/capacitaciones/{training_id}").get_data(as_text=True)
    assert name in page and "Lista de inscritos" in page
    assert "inscrito(a)" in client.get(f"/productores/{farmer_id}").get_data(as_text=True)
    assert client.get("/productores/999999").status_code == 404
    found = client.get("/productores?q=hernandez").get_data(as_text=True)
    assert "Juan Hernández López" in found and "Rosa María" not in found
