"""The farmers of `make bench-load` (bench/load.py) and the journeys they run.

Every mode of the run (Rasa's REST channel, one worker, two workers) gets farmers of its own, so
each starts from the same state: a farmer in Uruapan growing avocado, one phone, an invoice
scheduled and one paid, and, for the journeys that need it, a yes to the privacy notice. The
journeys are the standard ones of bench/journeys.py, written out in full because each farmer's
answers are known in advance (the check code is the last four digits of the folio).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import insert
from sqlalchemy.orm import Session

from bot.db import chunks
from bot.records.consents import ANSWER, NOTICE_VERSION
from bot.records.privacy import code_from_folio
from bot.records.schema import Consent, Farmer, FarmerCrop, FarmerPhone, Invoice

INVOICE = r"\bf-\d{6}: \$"  # an invoice line, as bench/journeys.py reads it


@dataclass(frozen=True)
class Journey:
    key: str
    says: tuple[str, ...]  # what the farmer writes, in order; "{code}" is their check code
    goal: str  # a regex on everything the farmer was answered (lower case, no accents)
    consented: bool  # the phone said yes to the privacy notice before


JOURNEYS: tuple[Journey, ...] = (
    Journey("first_contact", ("hola", "1", "cuando me pagan", "{code}"), INVOICE, consented=False),
    Journey("payment", ("cuando me pagan", "{code}"), INVOICE, consented=True),
    Journey("trainings", ("hay talleres cerca?", "gracias"), r"capacitaciones", consented=True),
    Journey(
        "quality",
        ("que calidad piden para el aguacate de primera", "de que calibre es un aguacate de 250 gramos"),
        r"calibre (?:40|48)",
        consented=True,
    ),
)


@dataclass(frozen=True)
class LoadFarmer:
    index: int
    phone: str
    folio: str
    journey: Journey

    @property
    def code(self) -> str:
        return code_from_folio(self.folio)

    def says(self) -> list[str]:
        return [text.replace("{code}", self.code) for text in self.journey.says]

    def reached(self, answers: str) -> bool:
        return re.search(self.journey.goal, answers) is not None


def farmers_for(mode: int, count: int) -> list[LoadFarmer]:
    """``count`` (at most 10,000) farmers of mode ``mode`` (0-9): phones +52 443 5<mode><5 digits>,
    the journeys in turn. The demo seed is fixed (RANDOM_SEED); its one phone in this block,
    +524435185644, lies past the 10,000th farmer of mode 1, so no load phone is a seeded one."""
    return [
        LoadFarmer(
            index,
            f"+524435{mode}{index:05d}",
            f"PP-L{mode}{index:04d}",
            JOURNEYS[index % len(JOURNEYS)],
        )
        for index in range(count)
    ]


def insert_farmers(session: Session, farmers: list[LoadFarmer]) -> None:
    """The farmers, their phones and crops, two invoices each and the consents, in bulk."""
    now = datetime.now(timezone.utc)
    ids: dict[str, int] = {}
    for part in chunks(farmers, 1000):
        rows = [
            {
                "folio": f.folio,
                "name": f"Productora de carga {f.index}",
                "state": "Michoacán",
                "municipality": "Uruapan",
                "preferred_medium": "sms",
                "created_at": now,
            }
            for f in part
        ]
        statement = insert(Farmer.__table__).values(rows).returning(Farmer.id, Farmer.folio)
        ids.update((folio, farmer_id) for farmer_id, folio in session.execute(statement))
    consent = {"accepted": True, "notice_version": NOTICE_VERSION, "kind": ANSWER, "recorded_at": now}
    tables = [
        (FarmerPhone.__table__, [{"farmer_id": ids[f.folio], "phone": f.phone} for f in farmers]),
        (FarmerCrop.__table__, [{"farmer_id": ids[f.folio], "product": "aguacate"} for f in farmers]),
        (Consent.__table__, [dict(consent, phone=f.phone) for f in farmers if f.journey.consented]),
        (Invoice.__table__, [invoice for f in farmers for invoice in _invoices(f, ids[f.folio], now)]),
    ]
    for table, table_rows in tables:
        for part in chunks(table_rows, 1000):
            session.execute(insert(table).values(list(part)))


def _invoices(farmer: LoadFarmer, farmer_id: int, now: datetime) -> list[dict]:
    """One paid and one scheduled, folios F-1<mode><index> and F-2<mode><index> (the demo's are
    F-3xxxxx and above)."""
    base = {"farmer_id": farmer_id, "issued_on": date(2026, 10, 5), "updated_at": now - timedelta(days=1)}
    number = farmer.folio[-5:]
    paid = {
        "status": "paid",
        "paid_on": date(2026, 10, 20),
        "bank_reference_last4": "4821",
        "scheduled_on": None,
    }
    scheduled = {
        "status": "scheduled",
        "scheduled_on": date(2026, 12, 4),
        "paid_on": None,
        "bank_reference_last4": None,
    }
    return [
        dict(base, folio=f"F-1{number}", amount_mxn=1000 + farmer.index % 9000, **paid),
        dict(base, folio=f"F-2{number}", amount_mxn=2500, **scheduled),
    ]
