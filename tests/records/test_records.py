"""The records layer against real databases (SQLite, and PostgreSQL when reachable)."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, func, select

from bot.db import session_scope
from bot.records.demo_data import DEMO_PHONES
from bot.records.farmers import farmers_for_phone
from bot.records.payments import invoice_by_folio, recent_invoices
from bot.records.schema import Enrolment, Farmer, Invoice, Training
from bot.records.seed import seed_demo
from bot.records.trainings import EnrolResult, cancel_enrolment, enrol
from tests.databases import ANCHOR


def test_seed_is_realistic_and_covers_every_invoice_status(seeded_db):
    with session_scope(seeded_db) as s:
        assert s.execute(select(func.count(Farmer.id))).scalar() >= 300
        statuses = set(s.execute(select(Invoice.status).distinct()).scalars())
        assert statuses == {"received", "in_review", "scheduled", "paid", "rejected", "on_hold"}
        states = set(s.execute(select(Farmer.state).distinct()).scalars())
        assert len(states) >= 10
        upcoming = s.execute(
            select(func.count(Training.id)).where(Training.starts_at > datetime.now(timezone.utc))
        ).scalar()
        assert upcoming >= 50


def test_seed_is_deterministic(empty_db, tmp_path):
    with session_scope(empty_db) as s:
        seed_demo(s, ANCHOR)
        first = s.execute(select(Farmer.folio, Farmer.name).order_by(Farmer.folio)).all()
        amounts = s.execute(select(Invoice.folio, Invoice.amount_mxn).order_by(Invoice.folio)).all()
    from tests.databases import make_database

    other, cleanup = make_database("sqlite", tmp_path)
    try:
        with session_scope(other) as s:
            assert s.execute(select(Farmer.folio, Farmer.name).order_by(Farmer.folio)).all() == first
            assert (
                s.execute(select(Invoice.folio, Invoice.amount_mxn).order_by(Invoice.folio)).all() == amounts
            )
    finally:
        cleanup()


def test_shared_phone_belongs_to_both_family_members(seeded_db):
    with session_scope(seeded_db) as s:
        names = [f.name for f in farmers_for_phone(s, "+524431000002")]
    assert names == ["Guadalupe Hernández Soto", "Juan Hernández López"]


def test_invoice_lookup_never_crosses_farmers(seeded_db):
    with session_scope(seeded_db) as s:
        rosa = farmers_for_phone(s, DEMO_PHONES[0].phone)[0]
        adriana = farmers_for_phone(s, DEMO_PHONES[3].phone)[0]
        assert invoice_by_folio(s, rosa.id, "F-300101") is not None
        assert invoice_by_folio(s, rosa.id, "F-300201") is None  # Adriana's
        assert invoice_by_folio(s, adriana.id, "F-300201").status == "on_hold"
        assert all(i.farmer_id == rosa.id for i in recent_invoices(s, rosa.id, limit=10))


@pytest.fixture
def small_training(seeded_db):
    """Makes trainings of a given capacity in the shared seeded database, and removes them (and
    their enrolments) afterwards, so that no other test finds a full training near Uruapan."""
    made: list[int] = []

    def make(capacity: int) -> int:
        made.append(_small_training(seeded_db, capacity))
        return made[-1]

    yield make
    with session_scope(seeded_db) as s:
        s.execute(delete(Enrolment).where(Enrolment.training_id.in_(made)))
        s.execute(delete(Training).where(Training.id.in_(made)))


def _small_training(url: str, capacity: int) -> int:
    with session_scope(url) as s:
        training = Training(
            code=f"T-{uuid.uuid4().hex[:10]}",
            topic="calidad",
            title="Prueba",
            description="d",
            starts_at=datetime.now(timezone.utc) + timedelta(days=3),
            timezone="America/Mexico_City",
            venue="v",
            municipality="Uruapan",
            state="Michoacán",
            capacity=capacity,
            seats_taken=0,
        )
        s.add(training)
        s.flush()
        return training.id


def _farmer_ids(url: str, n: int) -> list[int]:
    with session_scope(url) as s:
        return list(s.execute(select(Farmer.id).order_by(Farmer.id).offset(50).limit(n)).scalars())


def test_capacity_holds_when_many_farmers_take_the_last_seats_at_once(seeded_db, small_training):
    training_id = small_training(capacity=3)
    farmers = _farmer_ids(seeded_db, 8)
    results: list[EnrolResult] = []
    barrier = threading.Barrier(len(farmers))

    def attempt(farmer_id: int) -> None:
        barrier.wait()
        for _ in range(20):
            try:
                with session_scope(seeded_db) as s:
                    results.append(enrol(s, training_id, farmer_id))
                return
            except Exception as error:
                if "locked" not in str(error) and "serializ" not in str(error):
                    raise

    threads = [threading.Thread(target=attempt, args=(f,)) for f in farmers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(EnrolResult.ENROLLED) == 3
    assert results.count(EnrolResult.FULL) == 5
    with session_scope(seeded_db) as s:
        training = s.get(Training, training_id)
        active = s.execute(
            select(func.count(Enrolment.id)).where(
                Enrolment.training_id == training_id, Enrolment.status == "active"
            )
        ).scalar()
        assert training.seats_taken == active == 3


def test_enrol_twice_cancel_and_enrol_again(seeded_db, small_training):
    training_id = small_training(capacity=1)
    farmer_id = _farmer_ids(seeded_db, 1)[0]
    with session_scope(seeded_db) as s:
        assert enrol(s, training_id, farmer_id) is EnrolResult.ENROLLED
    with session_scope(seeded_db) as s:
        assert enrol(s, training_id, farmer_id) is EnrolResult.ALREADY
        assert cancel_enrolment(s, training_id, farmer_id)
        assert not cancel_enrolment(s, training_id, farmer_id)
    with session_scope(seeded_db) as s:
        assert s.get(Training, training_id).seats_taken == 0
        assert enrol(s, training_id, farmer_id) is EnrolResult.ENROLLED
        assert s.get(Training, training_id).seats_taken == 1
