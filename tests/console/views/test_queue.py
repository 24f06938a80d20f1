"""The handover queue: assigning, closing and reopening a request for a person."""

from __future__ import annotations

from markupsafe import escape
from sqlalchemy import select

from bot.db import session_scope
from bot.records.schema import HumanRequest
from bot.records.vocabulary import REQUEST_REASONS
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


def test_a_code_in_a_requests_last_message_is_masked(console_env, client_for):
    """A request's last message comes from the assistant's records, not the console's masked
    copy: a code in it is masked on the page too."""
    with session_scope(console_env.url) as session:
        session.add(
            HumanRequest(
                phone="+524431000088",
                conversation_id="+524431000088",
                reason="not_understood",
                last_message="ya le puse 8204 y no me deja",
                status="open",
            )
        )
    html = client_for("officer").get("/atencion").get_data(as_text=True)
    assert "ya le puse •••• y no me deja" in html and "8204" not in html
    with session_scope(console_env.url) as session:
        for row in session.execute(
            select(HumanRequest).where(HumanRequest.phone == "+524431000088")
        ).scalars():
            session.delete(row)


def test_the_queue_says_why_each_request_was_opened(console_env, client_for):
    """Asked for a person, not understood twice, a question, locked out: each with its label."""
    phones = {f"+5244310009{i}": reason for i, reason in enumerate(REQUEST_REASONS)}
    with session_scope(console_env.url) as session:
        for phone, reason in phones.items():
            session.add(HumanRequest(phone=phone, conversation_id=phone, reason=reason, status="open"))
    html = client_for("officer").get("/atencion").get_data(as_text=True)
    try:
        for label in REQUEST_REASONS.values():
            assert escape(label) in html, label
        assert "locked_out" in REQUEST_REASONS and "bloqueadas" in REQUEST_REASONS["locked_out"]
    finally:
        with session_scope(console_env.url) as session:
            for row in session.execute(select(HumanRequest).where(HumanRequest.phone.in_(phones))).scalars():
                session.delete(row)
