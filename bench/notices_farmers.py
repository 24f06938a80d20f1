"""The farmers of `make bench-notices` (bench/notices_bench.py): generated from a seed, inserted in
bulk, and what the bench expects for each of their notices, worked out from the generated data
alone (never read back from what the scheduler decided).

Each phone has its place (state and municipality, with the time zone this module names for it,
independently of bot/records/state_zones.py), its preferred medium, its consent to the privacy
notice (every phone: yes), its latest answer to the news question (a yes covers broadcasts) and
whether it said BAJA. One farmer in a hundred shares the phone of the farmer before (a family's
phone): a broadcast tells the phone once, a payment notice names each farmer's own invoice.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bot.db import chunks
from bot.messaging import optout
from bot.records.consents import ANSWER, NOTICE_VERSION
from bot.records.demo_data import SEED_DIR
from bot.records.knowledge import load_knowledge
from bot.records.notice_schema import NewsChoice
from bot.records.schema import Consent, Farmer, FarmerPhone, Invoice

# The controlled clock starts here, whatever the hour the bench runs: Wednesday 14 January 2026,
# 15:10 UTC. Central Mexico, Yucatán, Quintana Roo, Chihuahua and Bahía de Banderas are just past
# the end of the quiet hours (09:10, 10:10 in Quintana Roo); the Pacific states are still before
# 09:00 (08:10; 07:10 in Baja California), so their notices wait for the morning, about 50
# minutes of the controlled clock away (the run takes less than 10).
CLOCK_START = datetime(2026, 1, 14, 15, 10, tzinfo=timezone.utc)
QUIET_START, QUIET_END = 21, 9  # production's defaults, given to the scheduler explicitly

# (state, municipality, its IANA zone as zone1970.tab gives it, share of the farmers in %)
PLACES: tuple[tuple[str, str, str, int], ...] = (
    ("Michoacán", "Uruapan", "America/Mexico_City", 30),
    ("Michoacán", "Tancítaro", "America/Mexico_City", 10),
    ("Jalisco", "Zapotlán el Grande", "America/Mexico_City", 10),
    ("Puebla", "Atlixco", "America/Mexico_City", 8),
    ("Veracruz", "Córdoba", "America/Mexico_City", 6),
    ("Chiapas", "Tapachula", "America/Mexico_City", 5),
    ("Quintana Roo", "Bacalar", "America/Cancun", 3),
    ("Yucatán", "Oxkutzcab", "America/Merida", 3),
    ("Chihuahua", "Cuauhtémoc", "America/Chihuahua", 4),
    ("Nayarit", "Bahía de Banderas", "America/Bahia_Banderas", 2),
    ("Nayarit", "Tepic", "America/Mazatlan", 3),
    ("Sinaloa", "Culiacán", "America/Mazatlan", 7),
    ("Sonora", "Hermosillo", "America/Hermosillo", 4),
    ("Baja California", "Ensenada", "America/Tijuana", 3),
    ("Baja California Sur", "Comondú", "America/Mazatlan", 2),
)
SHARED_EVERY = 100  # farmer n shares the phone of farmer n - 1 when n % 100 == 1
OPTED_OUT = 0.04  # phones whose latest word is BAJA
NO_NEWS = 0.05  # phones that answered no to news (no broadcast; payment notices still go)
WHATSAPP = 0.25  # farmers who prefer WhatsApp (the rest SMS: basic phones)
# The invoice changes of the payment run in the middle of the broadcast, in turn.
PAYMENT_CHANGES: tuple[dict[str, Any], ...] = (
    {"status": "scheduled", "scheduled_on": date(2026, 1, 23)},
    {"status": "paid", "paid_on": date(2026, 1, 14), "bank_reference_last4": "4821"},
    {"status": "on_hold", "status_reason_code": "missing_cfdi_xml"},
    {"status": "rejected", "status_reason_code": "rfc_mismatch"},
)


@dataclass(frozen=True)
class Phone:
    number: str
    state: str
    municipality: str
    zone: str
    medium: str
    news: bool  # the latest answer to news is a yes that covers broadcasts
    opted_out: bool


@dataclass(frozen=True)
class GeneratedFarmer:
    index: int
    folio: str
    name: str
    invoice: str  # its invoice's folio
    phone: Phone


def quiet(zone: str, at: datetime) -> bool:
    """Night where the phone is, by this bench's reading of the rule (21:00 to 09:00)."""
    hour = at.astimezone(ZoneInfo(zone)).hour
    return hour >= QUIET_START or hour < QUIET_END


def generate(count: int, seed: int = 14) -> list[GeneratedFarmer]:
    rng = random.Random(seed)
    weights = [share for *_place, share in PLACES]
    farmers: list[GeneratedFarmer] = []
    for n in range(count):
        if n % SHARED_EVERY == 1:
            phone = farmers[-1].phone
        else:
            state, municipality, zone, _share = rng.choices(PLACES, weights)[0]
            phone = Phone(
                number=f"+52443{n:07d}",
                state=state,
                municipality=municipality,
                zone=zone,
                medium="whatsapp" if rng.random() < WHATSAPP else "sms",
                news=rng.random() >= NO_NEWS,
                opted_out=rng.random() < OPTED_OUT,
            )
        farmers.append(GeneratedFarmer(n, f"PB-{n:06d}", f"Productora {n}", f"F-9{n:06d}", phone))
    return farmers


def phones_of(farmers: Sequence[GeneratedFarmer]) -> dict[str, Phone]:
    return {f.phone.number: f.phone for f in farmers}


def insert_farmers(session: Session, farmers: Sequence[GeneratedFarmer], now: datetime) -> None:
    """Farmers, their phones, consents, answers to news and one invoice each (in review), a
    statement per thousand rows; the BAJAs through bot/messaging/optout.record_opt, as the
    channels record them. The explanations staff edit (the advice in an on-hold notice) are
    seeded as `make run` seeds them."""
    load_knowledge(session, SEED_DIR)
    ids: dict[str, int] = {}
    for chunk in chunks(farmers, 1000):
        rows = [
            {
                "folio": f.folio,
                "name": f.name,
                "state": f.phone.state,
                "municipality": f.phone.municipality,
                "preferred_medium": f.phone.medium,
                "created_at": now,
            }
            for f in chunk
        ]
        ids.update(
            (folio, farmer_id)
            for farmer_id, folio in session.execute(
                insert(Farmer.__table__).values(rows).returning(Farmer.id, Farmer.folio)
            )
        )
    phones = phones_of(farmers)
    tables: list[tuple[Any, list[dict[str, Any]]]] = [
        (FarmerPhone.__table__, [{"farmer_id": ids[f.folio], "phone": f.phone.number} for f in farmers]),
        (
            Consent.__table__,
            [
                {
                    "phone": p,
                    "accepted": True,
                    "notice_version": NOTICE_VERSION,
                    "kind": ANSWER,
                    "recorded_at": now,
                }
                for p in phones
            ],
        ),
        (
            # what bot/records/news.record_choice writes for each answer
            NewsChoice.__table__,
            [
                {"phone": p.number, "accepted": p.news, "covers_broadcasts": True, "recorded_at": now}
                for p in phones.values()
            ],
        ),
        (
            Invoice.__table__,
            [
                {
                    "folio": f.invoice,
                    "farmer_id": ids[f.folio],
                    "amount_mxn": 1000 + f.index % 9000,
                    "status": "in_review",
                    "issued_on": date(2026, 1, 5),
                    "updated_at": now - timedelta(minutes=10),
                }
                for f in farmers
            ],
        ),
    ]
    for table, table_rows in tables:
        for part in chunks(table_rows, 1000):
            session.execute(insert(table).values(list(part)))
    for phone in phones.values():
        if phone.opted_out:
            optout.record_opt(session, phone.number, "opt_out", "BAJA", phone.medium)


def choose_payments(farmers: Sequence[GeneratedFarmer], count: int, seed: int = 15) -> list[GeneratedFarmer]:
    return random.Random(seed).sample(list(farmers), count)


def change_invoices(session: Session, chosen: Sequence[GeneratedFarmer]) -> None:
    """The payment run: each chosen farmer's invoice changes, through the ORM (its updated_at
    moves, as a CSV import or the console moves it)."""
    by_folio = {f.invoice: n for n, f in enumerate(chosen)}
    invoices = session.execute(select(Invoice).where(Invoice.folio.in_(list(by_folio)))).scalars()
    for invoice in invoices:
        for field, value in PAYMENT_CHANGES[by_folio[invoice.folio] % len(PAYMENT_CHANGES)].items():
            setattr(invoice, field, value)


@dataclass(frozen=True)
class Expected:
    """What the rules say of each notice, keyed by (phone, "broadcast") or (phone, invoice)."""

    due: set[tuple[str, str]]  # released and sent in this run
    waiting: set[tuple[str, str]]  # night where the phone is: held for the morning
    opted_out: set[tuple[str, str]]  # planned, never released
    unplanned_phones: int  # phones that answered no to news: no broadcast notice at all

    def of_kind(self, keys: set[tuple[str, str]], broadcast: bool) -> int:
        return sum(1 for _phone, subject in keys if (subject == "broadcast") == broadcast)


def expected(
    farmers: Sequence[GeneratedFarmer], payments: Sequence[GeneratedFarmer], at: datetime
) -> Expected:
    due: set[tuple[str, str]] = set()
    waiting: set[tuple[str, str]] = set()
    opted_out: set[tuple[str, str]] = set()
    phones = phones_of(farmers)
    keys = [((p.number, "broadcast"), p) for p in phones.values() if p.news]
    keys += [((f.phone.number, f.invoice), f.phone) for f in payments]
    for key, phone in keys:
        if phone.opted_out:
            opted_out.add(key)
        elif quiet(phone.zone, at):
            waiting.add(key)
        else:
            due.add(key)
    return Expected(due, waiting, opted_out, sum(1 for p in phones.values() if not p.news))
