"""The handover queue: assigning, closing and reopening a request for a person."""

from __future__ import annotations

from sqlalchemy import select

from bot.db import session_scope
from bot.records.schema import HumanRequest
from tests.console.conftest import FAMILY, token_of


def test_handover_queue_assign_and_close(console_env, client_for):
    client = client_for("officer")
    html = client.get("/atencion").get_data(as_text=True)
    assert FAMILY in html and "sin respuesta" in html
    with session_scope(console_env.url) as session:
        request_id = session.execute(select(HumanRequest.id).where(HumanRequest.phone == FAMILY)).scalar()
    token = token_of(client, "/atencion")
    prefix = f"h{request_id}"
    response = client.post(
        f"/atencion/{request_id}",
        data={"csrf_token": token, f"{prefix}-assigned_to": "officer", f"{prefix}-status": "in_progress"},
    )
    assert response.status_code == 302
    mine = client.get("/atencion?mias=1").get_data(as_text=True)
    assert FAMILY in mine
    response = client.post(
        f"/atencion/{request_id}",
        data={"csrf_token": token, f"{prefix}-assigned_to": "nadie-asi", f"{prefix}-status": "closed"},
    )
    with session_scope(console_env.url) as session:
        row = session.get(HumanRequest, request_id)
        assert row.assigned_to == "officer" and row.status == "in_progress"  # invalid choice refused
    client.post(
        f"/atencion/{request_id}",
        data={"csrf_token": token, f"{prefix}-assigned_to": "officer", f"{prefix}-status": "closed"},
    )
    with session_scope(console_env.url) as session:
        row = session.get(HumanRequest, request_id)
        assert row.status == "closed" and row.closed_at is not None
    assert FAMILY not in client.get("/atencion").get_data(as_text=True)
    assert FAMILY in client.get("/atencion?estado=closed").get_data(as_text=True)
    client.post(
        f"/atencion/{request_id}",
        data={"csrf_token": token, f"{prefix}-assigned_to": "", f"{prefix}-status": "open"},
    )
    with session_scope(console_env.url) as session:
        row = session.get(HumanRequest, request_id)
        assert row.status == "open" and row.closed_at is None and row.assigned_to is None
