"""Program records made for a test: a training session (the seeded ones move with the day), a
farmer with a phone and a crop."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.records.schema import Farmer, FarmerCrop, FarmerPhone, Training


def new_training(
    url: str,
    starts_at: datetime,
    title: str = "Manejo de plagas en aguacate",
    venue: str = "Casa ejidal de Tingambato",
    zone: str = "America/Mexico_City",
) -> int:
    """A session with seats, in Tingambato, Michoacán; returns its id."""
    with session_scope(url) as s:
        training = Training(
            code=f"CAP-{uuid.uuid4().hex[:8]}",
            topic="agronomia",
            title=title,
            description="Práctica en campo.",
            starts_at=starts_at,
            timezone=zone,
            venue=venue,
            municipality="Tingambato",
            state="Michoacán",
            capacity=30,
            seats_taken=0,
        )
        s.add(training)
        s.flush()
        return training.id


def add_farmer(
    session: Session,
    phone: str,
    *,
    name: str = "Productora de prueba",
    state: str = "Michoacán",
    municipality: str = "Uruapan",
    crop: str = "aguacate",
    medium: str = "whatsapp",
    organisation_id: int | None = None,
) -> int:
    """A farmer with one phone and one crop, in the caller's unit of work; returns their id."""
    farmer = Farmer(
        folio=f"PP-T{uuid.uuid4().hex[:8]}",
        name=name,
        state=state,
        municipality=municipality,
        preferred_medium=medium,
        organisation_id=organisation_id,
    )
    farmer.crops.append(FarmerCrop(product=crop))
    session.add(farmer)
    session.flush()
    session.add(FarmerPhone(farmer_id=farmer.id, phone=phone))
    return farmer.id
