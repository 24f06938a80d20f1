"""Program records made for a test: a training session (the seeded ones move with the day)."""

from __future__ import annotations

import uuid
from datetime import datetime

from bot.db import session_scope
from bot.records.schema import Training


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
