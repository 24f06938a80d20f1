"""A realistic, deterministic demo data set: the same seed and anchor date give the same records.

Reference tables (quality standards, avocado calibres) come from data/seed/*.csv, which cite their
sources (../shared/domain/facts.md). People, deliveries, invoices and trainings are invented demo
records; what they are made of (names, places, prices, the demo phones) is in demo_data.py.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.records.csv_import import load_reference_tables
from bot.records.demo_data import (
    DEMO_PHONES,
    FARMER_COUNT,
    FIRST_NAMES,
    HOLD_NOTES,
    ORG_KINDS,
    PRICE_PER_KG,
    RANDOM_SEED,
    REJECT_NOTES,
    REJECTION_WEIGHTS,
    SEED_DIR,
    SURNAMES,
    TRAINING_CATALOG,
    PlaceRow,
    load_places,
)
from bot.records.knowledge import load_knowledge
from bot.records.schema import (
    Delivery,
    DeliveryGrade,
    DeliveryRejection,
    Enrolment,
    Farmer,
    FarmerCrop,
    FarmerPhone,
    Invoice,
    Organisation,
    Training,
)


def is_seeded(session: Session) -> bool:
    return bool(session.execute(select(func.count(Farmer.id))).scalar())


def seed_demo(session: Session, anchor: date | None = None) -> dict[str, int]:
    """Fills an empty database. ``anchor`` is "today" for the demo (dates are relative to it)."""
    anchor = anchor or date.today()
    rng = random.Random(RANDOM_SEED)
    places = load_places()
    by_municipality = {p.municipality: p for p in places}
    load_reference_tables(session, SEED_DIR)
    load_knowledge(session, SEED_DIR)
    orgs = _organisations(session, rng, places)
    farmers = _demo_farmers(session, by_municipality, orgs)
    farmers += _random_farmers(session, rng, places, orgs, len(farmers))
    session.flush()
    folios = _InvoiceFolios(rng)
    for farmer in farmers:
        _deliveries_and_invoices(session, rng, folios, farmer, anchor)
    _demo_invoice_situations(session, farmers, anchor)
    trainings = _trainings(session, rng, places, anchor)
    session.flush()
    _enrolments(session, rng, farmers, trainings)
    return {
        "farmers": len(farmers),
        "trainings": len(trainings),
        "organisations": sum(len(group) for group in orgs.values()),
    }


def _organisations(
    session: Session, rng: random.Random, places: list[PlaceRow]
) -> dict[str, list[Organisation]]:
    orgs: dict[str, list[Organisation]] = {}
    for place in places:
        for n in range(2):
            org = Organisation(
                name=f"{rng.choice(ORG_KINDS)} {place.municipality} {('Norte', 'Sur')[n]}",
                state=place.state,
                led_by_women=rng.random() < 0.3,
            )
            session.add(org)
            orgs.setdefault(place.municipality, []).append(org)
    return orgs


def _new_farmer(folio: str, name: str, place: PlaceRow, crop: str, org: Organisation, medium: str) -> Farmer:
    farmer = Farmer(
        folio=folio,
        name=name,
        state=place.state,
        municipality=place.municipality,
        organisation=org,
        preferred_medium=medium,
    )
    farmer.crops.append(FarmerCrop(product=crop, hectares=Decimal("1.5")))
    return farmer


def _demo_farmers(
    session: Session, by_municipality: dict[str, PlaceRow], orgs: dict[str, list[Organisation]]
) -> list[Farmer]:
    farmers = []
    for demo in DEMO_PHONES:
        place = by_municipality[demo.municipality]
        farmer = _new_farmer(demo.folio, demo.name, place, demo.crop, orgs[demo.municipality][0], "sms")
        farmer.phones.append(FarmerPhone(phone=demo.phone))
        session.add(farmer)
        farmers.append(farmer)
    return farmers


def _random_farmers(
    session: Session,
    rng: random.Random,
    places: list[PlaceRow],
    orgs: dict[str, list[Organisation]],
    start: int,
) -> list[Farmer]:
    farmers: list[Farmer] = []
    used_folios = {d.folio for d in DEMO_PHONES}
    while len(farmers) < FARMER_COUNT - start:
        folio = f"PP-{rng.randint(100000, 999999)}"
        if folio in used_folios:
            continue
        used_folios.add(folio)
        place = rng.choice(places)
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)} {rng.choice(SURNAMES)}"
        hectares = Decimal(str(round(rng.lognormvariate(0.6, 0.6), 1)))  # about half under 2 ha
        farmer = _new_farmer(
            folio,
            name,
            place,
            place.crop,
            rng.choice(orgs[place.municipality]),
            rng.choice(("whatsapp", "whatsapp", "sms")),
        )
        farmer.crops[0].hectares = hectares
        phone = f"+52{rng.randint(2000000000, 9999999999)}"
        farmer.phones.append(FarmerPhone(phone=phone))
        if farmers and rng.random() < 0.08:  # a family member shares this basic phone
            farmers[-1].phones.append(FarmerPhone(phone=phone))
        session.add(farmer)
        farmers.append(farmer)
    return farmers


def _deliveries_and_invoices(
    session: Session, rng: random.Random, folios: _InvoiceFolios, farmer: Farmer, anchor: date
) -> None:
    if farmer.folio == "PP-852790":  # the demo's new farmer has delivered nothing yet
        return
    crop = farmer.crops[0].product
    for _ in range(rng.randint(1, 5)):
        delivered_on = anchor - timedelta(days=rng.randint(1, 120))
        delivery = _delivery(rng, farmer, crop, delivered_on)
        session.add(delivery)
        session.flush()
        issued_on = delivered_on + timedelta(days=1)
        invoice = Invoice(
            folio=folios.next(),
            farmer_id=farmer.id,
            delivery_id=delivery.id,
            amount_mxn=(delivery.kg_accepted * PRICE_PER_KG.get(crop, Decimal("15.00"))).quantize(
                Decimal("0.01")
            ),
            issued_on=issued_on,
            **_status_for_age(rng, issued_on, anchor),
        )
        session.add(invoice)


def _delivery(rng: random.Random, farmer: Farmer, crop: str, delivered_on: date) -> Delivery:
    kg = Decimal(rng.randrange(200, 2400, 10))
    rejected = Decimal(0)
    delivery = Delivery(
        farmer_id=farmer.id,
        delivered_on=delivered_on,
        product=crop,
        collection_center=f"Centro de acopio {farmer.municipality}",
        kg_delivered=kg,
    )
    if rng.random() < 0.35:
        reason = rng.choices(list(REJECTION_WEIGHTS), weights=list(REJECTION_WEIGHTS.values()))[0]
        rejected = (kg * Decimal(rng.randint(2, 15)) / 100).quantize(Decimal("1"))
        delivery.rejections.append(DeliveryRejection(reason=reason, kg=rejected))
    delivery.kg_rejected = rejected
    delivery.kg_accepted = kg - rejected
    _grades(rng, delivery, crop)
    return delivery


def _grades(rng: random.Random, delivery: Delivery, crop: str) -> None:
    first = (delivery.kg_accepted * Decimal(rng.randint(55, 85)) / 100).quantize(Decimal("1"))
    if crop == "aguacate":
        calibres = (40, 48, 60)
        split = (first * Decimal("0.3")).quantize(Decimal("1"))
        delivery.grades.append(DeliveryGrade(grade="extra", calibre=calibres[0], kg=split))
        delivery.grades.append(DeliveryGrade(grade="primera", calibre=calibres[1], kg=first - split))
        delivery.grades.append(
            DeliveryGrade(grade="segunda", calibre=calibres[2], kg=delivery.kg_accepted - first)
        )
    else:
        delivery.grades.append(DeliveryGrade(grade="primera", kg=first))
        delivery.grades.append(DeliveryGrade(grade="segunda", kg=delivery.kg_accepted - first))


class _InvoiceFolios:
    """Unique random folios, never one of the demo's fixed ones (F-3001xx ... F-3004xx)."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def next(self) -> str:
        while True:
            folio = f"F-{self._rng.randint(400000, 999999)}"
            if folio not in self._used:
                self._used.add(folio)
                return folio


def _status_for_age(rng: random.Random, issued_on: date, anchor: date) -> dict:
    """The program pays in about 7 days (facts.md section 6); older invoices are mostly paid."""
    age = (anchor - issued_on).days
    scheduled_on = issued_on + timedelta(days=7)
    roll = rng.random()
    if roll < 0.05:
        code = rng.choice(sorted(HOLD_NOTES))
        return {"status": "on_hold", "status_reason": HOLD_NOTES[code], "status_reason_code": code}
    if roll < 0.08:
        code = rng.choice(sorted(REJECT_NOTES))
        return {"status": "rejected", "status_reason": REJECT_NOTES[code], "status_reason_code": code}
    if age <= 1:
        return {"status": "received"}
    if age <= 3:
        return {"status": "in_review"}
    if scheduled_on > anchor:
        return {"status": "scheduled", "scheduled_on": scheduled_on}
    return {
        "status": "paid",
        "scheduled_on": scheduled_on,
        "paid_on": scheduled_on,
        "bank_reference_last4": f"{rng.randint(0, 9999):04d}",
    }


def _demo_invoice_situations(session: Session, farmers: list[Farmer], anchor: date) -> None:
    """The demo numbers always show the same situations, whatever the random draw gave."""
    by_folio = {f.folio: f for f in farmers}
    rosa = by_folio["PP-518204"]
    _fixed_invoice(session, rosa, "F-300101", anchor - timedelta(days=20), 900, 0, None, "paid")
    _fixed_invoice(
        session, rosa, "F-300102", anchor - timedelta(days=3), 1200, 84, "mechanical_damage", "scheduled"
    )
    adriana = by_folio["PP-741365"]
    _fixed_invoice(
        session, adriana, "F-300201", anchor - timedelta(days=6), 1500, 0, None, "on_hold", "missing_cfdi_xml"
    )
    _fixed_invoice(
        session,
        adriana,
        "F-300202",
        anchor - timedelta(days=10),
        700,
        35,
        "ripeness",
        "rejected",
        "amount_mismatch",
    )
    juan = by_folio["PP-630117"]
    _fixed_invoice(session, juan, "F-300301", anchor - timedelta(days=2), 640, 0, None, "in_review")
    lupe = by_folio["PP-630942"]
    _fixed_invoice(session, lupe, "F-300401", anchor - timedelta(days=12), 510, 20, "pests", "paid")


def _fixed_invoice(
    session: Session,
    farmer: Farmer,
    folio: str,
    delivered_on: date,
    kg: int,
    kg_rejected: int,
    reason: str | None,
    status: str,
    reason_code: str | None = None,
) -> None:
    crop = farmer.crops[0].product
    delivery = Delivery(
        farmer_id=farmer.id,
        delivered_on=delivered_on,
        product=crop,
        collection_center=f"Centro de acopio {farmer.municipality}",
        kg_delivered=Decimal(kg),
        kg_rejected=Decimal(kg_rejected),
        kg_accepted=Decimal(kg - kg_rejected),
    )
    if reason:
        delivery.rejections.append(DeliveryRejection(reason=reason, kg=Decimal(kg_rejected)))
    session.add(delivery)
    session.flush()
    issued_on = delivered_on + timedelta(days=1)
    scheduled_on = issued_on + timedelta(days=7) if status in ("scheduled", "paid") else None
    session.add(
        Invoice(
            folio=folio,
            farmer_id=farmer.id,
            delivery_id=delivery.id,
            amount_mxn=(delivery.kg_accepted * PRICE_PER_KG[crop]).quantize(Decimal("0.01")),
            status=status,
            status_reason=(HOLD_NOTES | REJECT_NOTES).get(reason_code or ""),
            status_reason_code=reason_code,
            issued_on=issued_on,
            scheduled_on=scheduled_on,
            paid_on=scheduled_on if status == "paid" else None,
            bank_reference_last4="4821" if status == "paid" else None,
        )
    )


def _trainings(session: Session, rng: random.Random, places: list[PlaceRow], anchor: date) -> list[Training]:
    trainings = []
    number = 0
    for place in places:
        for week in range(-2, 13, 3):  # a season: from two weeks ago to three months ahead
            number += 1
            topic = rng.choice(list(TRAINING_CATALOG))
            title, description = rng.choice(TRAINING_CATALOG[topic])
            day = anchor + timedelta(days=7 * week + rng.randint(1, 6))
            local = datetime.combine(day, time(rng.choice((9, 10, 16)), 0), ZoneInfo(place.timezone))
            capacity = rng.choice((15, 20, 25, 30))
            training = Training(
                code=f"CAP-{number:04d}",
                topic=topic,
                title=title,
                description=description,
                starts_at=local.astimezone(ZoneInfo("UTC")),
                timezone=place.timezone,
                venue=f"Salón ejidal de {place.municipality}"
                if number % 2
                else f"Parcela demostrativa {place.municipality}",
                municipality=place.municipality,
                state=place.state,
                latitude=Decimal(str(place.latitude)),
                longitude=Decimal(str(place.longitude)),
                capacity=capacity,
                seats_taken=0,
            )
            session.add(training)
            trainings.append(training)
    return trainings


def _enrolments(
    session: Session, rng: random.Random, farmers: list[Farmer], trainings: list[Training]
) -> None:
    demo_ids = {f.id for f in farmers[: len(DEMO_PHONES)]}
    by_place: dict[str, list[Farmer]] = {}
    for farmer in farmers:
        if farmer.id not in demo_ids:
            by_place.setdefault(farmer.municipality, []).append(farmer)
    for training in trainings:
        local = by_place.get(training.municipality, [])
        count = min(len(local), rng.randint(0, training.capacity))
        for farmer in rng.sample(local, count):
            session.add(Enrolment(training_id=training.id, farmer_id=farmer.id))
        training.seats_taken = count
