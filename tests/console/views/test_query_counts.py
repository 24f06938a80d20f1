"""Every page runs the same number of SQL statements whatever the number of rows behind it.

Statements are counted on the program database's engine (SQLAlchemy's ``before_cursor_execute``)
for one request to each page: first on the seeded data with one more row of each kind, then after
adding N more conversations, requests for a person, staff replies, delivery records, farmers,
invoices, trainings, enrolments, accounts, corrections, explanations and FAQ entries. A query run once per row would make
the second count larger.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.console.schema import ConsoleCorrection, ConsoleLogin, ConsoleReply, ConsoleUser
from bot.db import engine_for, session_scope
from bot.messaging.schema import InboundMessage, OutboundMessage
from bot.records.notice_schema import Broadcast, Notice
from bot.records.schema import (
    Delivery,
    Enrolment,
    Explanation,
    FaqEntry,
    Farmer,
    FarmerPhone,
    HumanRequest,
    Invoice,
    Organisation,
    PhoneVerification,
    Training,
)
from tests.console.conftest import (
    ROSA,
    _action,
    _bot,
    _event_time,
    _user,
    counting,
    login,
    write_events,
)

N = 30  # more than a page of conversations (25), so the second count covers a full page

PAGES = {
    "conversation list": "/conversaciones",
    "conversation search": "/conversaciones?q=prueba&baja_confianza=1&no_entendio=1&sin_revisar=1",
    "transcript": f"/conversaciones/{ROSA}",
    "queue": "/atencion?estado=todas",
    "farmers": "/productores",
    "farmer search": "/productores?q=prueba",
    "farmer page": "/productores/{farmer_id}",
    "invoices": "/facturas",
    "invoice search": "/facturas?q=prueba",
    "trainings": "/capacitaciones?cuando=todas",
    "training page": "/capacitaciones/{training_id}",
    "dashboard": "/panel",
    "accounts": "/cuentas",
    "audit": "/auditoria",
    "login log": "/auditoria/entradas",
    "locks": "/bloqueos",
    "corrections": "/correcciones",
    "explanations": "/explicaciones",
    "faq": "/preguntas-frecuentes",
    "broadcasts": "/difusion",
}


def statements_per_page(client, engine, ids: dict[str, int]) -> dict[str, int]:
    counts = {}
    for name, path in PAGES.items():
        path = path.format(**ids)
        client.get(path)  # first: copies new tracker events, opens pooled connections
        with counting(engine) as statements:
            response = client.get(path)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = len(statements)
    return counts


def more_conversations(tracker_url: str, first: int, n: int) -> None:
    """n more phones that wrote (some unclear, some out of scope) and more messages from Rosa."""
    events = {}
    for i in range(first, first + n):
        phone = f"+5255{i:08d}"
        events[phone] = [
            _user(
                f"mensaje de prueba {i}",
                "ask_payment_status" if i % 2 else "out_of_scope",
                0.3 + (i % 7) / 10,
                _event_time(5 + i / 10),
                "sms" if i % 3 else "whatsapp",
                f"SMq{i:06d}",
            ),
            _action("action_nlu_fallback", _event_time(5 + i / 10, 1)),
            _bot("Perdone, no le entendí.", _event_time(5 + i / 10, 1)),
        ]
    events[ROSA] = []
    for i in range(first, first + n):
        events[ROSA] += [
            _user(
                f"otra pregunta {i}",
                "ask_trainings",
                0.4 + (i % 6) / 10,
                _event_time(1.5, i * 2),
                "whatsapp",
                f"SMrq{i:06d}",
            ),
            _bot(f"respuesta {i}", _event_time(1.5, i * 2 + 1)),
        ]
    write_events(tracker_url, events)


def more_records(url: str, first: int, n: int, rosa_id: int, training_id: int) -> None:
    now = datetime.now(timezone.utc)
    with session_scope(url) as session:
        farmers = []
        for i in range(first, first + n):
            farmer = Farmer(
                folio=f"PP-8{i:05d}",
                name=f"Productora Prueba {i}",
                state="Michoacán",
                municipality="Uruapan",
                preferred_medium="sms",
            )
            farmer.phones.append(FarmerPhone(phone=f"+5255{i:08d}"))
            farmers.append(farmer)
        session.add_all(farmers)
        session.flush()
        organisation_id = session.execute(select(Organisation.id).limit(1)).scalar()
        upcoming = []
        for i, farmer in enumerate(farmers, start=first):
            phone = farmer.phones[0].phone
            created = now - timedelta(hours=3, minutes=i)
            request = HumanRequest(
                phone=phone,
                conversation_id=phone,
                farmer_id=farmer.id,
                reason="asked" if i % 2 else "not_understood",
                last_message=f"mensaje de prueba {i}",
                status="open",
                created_at=created,
            )
            rosa_request = HumanRequest(
                phone=ROSA,
                conversation_id=ROSA,
                farmer_id=rosa_id,
                reason="asked",
                status="closed",
                created_at=created,
                closed_at=now,
            )
            session.add_all([request, rosa_request])
            if i % 2:
                session.add(
                    ConsoleReply(
                        phone=phone,
                        medium="sms",
                        body=f"respuesta {i}",
                        username="officer",
                        status="sent",
                        created_at=created + timedelta(minutes=5 + i),
                    )
                )
            session.add(
                ConsoleReply(
                    phone=ROSA,
                    farmer_id=rosa_id,
                    medium="whatsapp",
                    body=f"respuesta a Rosa {i}",
                    username="officer",
                    status="sent",
                    twilio_sids=f"SMrosa-out-{i}",
                    created_at=now - timedelta(minutes=i),
                )
            )
            session.add(
                OutboundMessage(
                    medium="whatsapp",
                    phone=ROSA,
                    to_address=f"whatsapp:{ROSA}",
                    body="x",
                    in_reply_to=f"SMrq{i:06d}",
                    status="failed" if i % 4 == 0 else "delivered",
                    twilio_sid=f"SMrosa-out-{i}",
                )
            )
            delivery = Delivery(
                farmer_id=rosa_id,
                delivered_on=date.today() - timedelta(days=i),
                product="aguacate",
                kg_delivered=100,
                kg_accepted=90,
                kg_rejected=10,
            )
            session.add(delivery)
            session.add(
                Invoice(
                    folio=f"F-8{i:05d}",
                    farmer_id=rosa_id,
                    delivery=delivery,
                    amount_mxn=1000 + i,
                    status="scheduled",
                    issued_on=date.today() - timedelta(days=i),
                )
            )
            training = Training(
                code=f"CAP-8{i:03d}",
                topic="calidad",
                title=f"Taller de prueba {i}",
                description="Prueba.",
                starts_at=now + timedelta(days=3 + i),
                timezone="America/Mexico_City",
                venue="Bodega",
                municipality="Uruapan",
                state="Michoacán",
                capacity=40,
            )
            upcoming.append(training)
            session.add(training)
            session.add(Enrolment(training=training, farmer_id=rosa_id))
            session.add(Enrolment(training_id=training_id, farmer_id=farmer.id))
            session.add(ConsoleUser(username=f"tecnico{i:02d}", role="officer", password_hash="x"))
            session.add(ConsoleLogin(username=f"tecnico{i:02d}", address="192.0.2.1", outcome="failure"))
            session.add(
                PhoneVerification(
                    phone=phone, farmer_id=farmer.id, lockouts=3, held_for_staff=True, last_attempt_at=now
                )
            )
            session.add(
                InboundMessage(
                    message_sid=f"SMflood{i:06d}",
                    medium="sms",
                    phone=phone,
                    from_address=phone,
                    status="processed",
                    error="rate_limited",
                    received_at=now - timedelta(minutes=i),
                )
            )
            session.add(
                Explanation(
                    code=f"prueba_{i}",
                    kind=("rejection", "hold", "status", "term")[i % 4],
                    title=f"Término de prueba {i}",
                    keywords=f"prueba {i},termino {i}",
                    explanation="Explicación de prueba. " * (1 + i % 12),
                    what_to_do="Qué hacer.",
                    source="Prueba",
                    confidence="SECONDARY",
                )
            )
            session.add(
                FaqEntry(
                    code=f"prueba_{i}",
                    question=f"¿Pregunta de prueba {i}?",
                    keywords=f"pregunta {i}",
                    answer=f"Respuesta {i}." + (" Llame al [POR LLENAR: teléfono]." if i % 2 else ""),
                    source="Prueba",
                    updated_by="officer" if i % 3 else None,
                )
            )
            broadcast = Broadcast(
                text=f"Difusión de prueba {i}",
                state="Michoacán",
                organisation_id=organisation_id,
                status="approved",
                composed_by="officer",
                decided_by="admin",
            )
            session.add(broadcast)
            session.flush()
            session.add(
                Notice(
                    idempotency_key=f"broadcast:{broadcast.id}:{phone}",
                    kind="broadcast",
                    priority=3,
                    farmer_id=farmer.id,
                    phone=phone,
                    subject=f"#{broadcast.id}",
                    variables="{}",
                    due_at=now,
                    status="released",
                    message_sid=f"NT{broadcast.id:032d}",
                )
            )
            session.add(
                OutboundMessage(
                    medium="sms",
                    phone=phone,
                    to_address=phone,
                    in_reply_to=f"NT{broadcast.id:032d}",
                    status="read",
                )
            )
            session.add(
                ConsoleCorrection(
                    event_id=9_000_000 + i,
                    sender_id=phone,
                    text=f"mensaje de prueba {i}",
                    original_intent="out_of_scope",
                    intent="ask_payment_status",
                    entities_json="[]",
                    corrected_by="officer",
                )
            )


@pytest.fixture(scope="module")
def counts(console_env, app):
    url = console_env.url
    with session_scope(url) as session:
        rosa_id = session.execute(select(FarmerPhone.farmer_id).where(FarmerPhone.phone == ROSA)).scalar()
        training_id = session.execute(
            select(Enrolment.training_id).where(Enrolment.status == "active").order_by(Enrolment.id).limit(1)
        ).scalar()
    ids = {"farmer_id": rosa_id, "training_id": training_id}
    client = app.test_client()
    login(client, "admin")
    engine = engine_for(url)
    # one row of each kind first, so both counts see every kind of row (an empty list skips
    # the queries that load its rows' relations)
    more_conversations(console_env.tracker_url, 0, 1)
    more_records(url, 0, 1, rosa_id, training_id)
    seeded = statements_per_page(client, engine, ids)
    more_conversations(console_env.tracker_url, 1, N)
    more_records(url, 1, N, rosa_id, training_id)
    grown = statements_per_page(client, engine, ids)
    print(f"\nstatements per page (seeded and one more row of each kind -> {N} more):")
    for name in PAGES:
        print(f"  {name:22s} {seeded[name]:3d} -> {grown[name]:3d}")
    return seeded, grown


LAZY_LOAD_SLACK = 1


@pytest.mark.parametrize("page", list(PAGES))
def test_statements_do_not_grow_with_rows(counts, page):
    seeded, grown = counts
    # The same count, give or take the one lazy load of a related row that an earlier query of
    # the same request may or may not have put in the session already; a query per row would add
    # N (30) or more.
    assert abs(grown[page] - seeded[page]) <= LAZY_LOAD_SLACK, (
        f"{page}: {seeded[page]} statements on the seeded data, {grown[page]} with {N} more rows"
    )
