"""An ARCO cancellation through the console, bloqueo then supresión, checked by searching every
text column of every table the program has (all of the models' metadata) and Rasa's events table
for the farmer's numbers (as stored and as their last 10 digits), names (the one they had before a
rectification too) and the texts of their messages: found before, nowhere after. Invoices,
deliveries and payments stay, linked to the anonymised farmer. A family phone: the cancelled
farmer's conversations go, the other farmer keeps the number. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import String, Text, func, select

import bot.console.schema
import bot.messaging.schema  # the messaging tables, on the same metadata
from bot.console.auth import StaffUser
from bot.console.schema import ConsoleCorrection, ConsoleReply, ConsoleReview
from bot.console.services import arco_cancellation
from bot.console.tracker import EVENTS, tracker_engine
from bot.db import engine_for, session_scope
from bot.messaging.schema import InboundMessage, MessageStatusEvent, OptOutEvent, OutboundMessage, OutboxEntry
from bot.records.arco_schema import ArcoRequest, ArcoStep
from bot.records.farmers import farmers_for_phone
from bot.records.schema import (
    Base,
    Consent,
    Delivery,
    Enrolment,
    Farmer,
    FarmerPhone,
    HumanRequest,
    Invoice,
    PaymentAccessLog,
    PhoneVerification,
)
from bot.timeutil import utcnow
from tests.console.conftest import ADRIANA, FAMILY, token_of
from tests.console.views.test_arco import farmer_of, record, steps_of

assert bot.console.schema and bot.messaging.schema  # every table is on Base.metadata

NEW_NAME = "Adriana Flores Ortiz de la Luz"
SHE_WROTE = "Tengo dudas de mi pago, me llamo Adriana y vivo en el rancho El Sauz"
WE_WROTE = "Adriana, su factura sigue en revisión por el XML"
STAFF_WROTE = "Buen día Adriana Flores, le llamo mañana a las 10"
TO_A_PERSON = "quiero que me llamen al rancho El Sauz"
REVIEW_NOTE = "Adriana Flores pidió revisar su pago del rancho El Sauz"
FROM_TRACKER = [
    "¿cuándo es la capacitación de calidad?",
    "La próxima capacitación de calidad es el sáb 6 dic en Atlixco.",
]


def _variants(value: str) -> list[str]:
    """A stored text, and the same read back from JSON (Rasa escapes accents in its JSON)."""
    found = [value.lower()]
    try:
        found.append(json.dumps(json.loads(value), ensure_ascii=False).lower())
    except ValueError:
        pass
    return found


def occurrences(url: str, tracker_url: str, needles: list[str]) -> set[tuple[str, str, str]]:
    """(table, column, needle) for every needle found in any text column of any table of the
    program's metadata, and of Rasa's events table."""
    found = set()
    wanted = [n.lower() for n in needles]
    places = [(engine_for(url), table) for table in Base.metadata.sorted_tables]
    places.append((tracker_engine(tracker_url), EVENTS))
    for engine, table in places:
        columns = [c for c in table.columns if isinstance(c.type, (String, Text))]
        with engine.connect() as conn:
            for row in conn.execute(select(*columns)):
                for column, value in zip(columns, row, strict=True):
                    if not value:
                        continue
                    texts = _variants(str(value))
                    found.update(
                        (table.name, column.name, needle)
                        for needle, low in zip(needles, wanted, strict=True)
                        if any(low in text for text in texts)
                    )
    return found


def _seed_everything(url: str, farmer_id: int, phone: str) -> None:
    """A row in every table that can hold something of the farmer or their number."""
    now = utcnow()
    with session_scope(url) as session:
        session.add(
            InboundMessage(
                message_sid="SMcancel0001",
                medium="whatsapp",
                phone=phone,
                from_address=f"whatsapp:+521{phone[3:]}",
                to_address="whatsapp:+14155238886",
                body=SHE_WROTE,
                profile_name="Adriana Flores Ortiz",
                wa_id=f"521{phone[3:]}",
                num_media=1,
                media_json=json.dumps(
                    [{"url": "https://api.twilio.com/Media/ME1", "content_type": "image/jpeg"}]
                ),
                latitude=19.0,
                longitude=-98.4,
                location_label="Rancho El Sauz",
                raw_params=json.dumps({"Body": SHE_WROTE, "From": f"whatsapp:+521{phone[3:]}"}),
                status="processed",
                received_at=now - timedelta(hours=3),
            )
        )
        sent = OutboundMessage(
            medium="whatsapp",
            phone=phone,
            to_address=f"whatsapp:{phone}",
            body=WE_WROTE,
            content_variables=json.dumps({"1": "Adriana Flores Ortiz"}),
            status="failed",
            error=f"Twilio no pudo entregar a {phone}",
            twilio_sid="SMcancelout01",
            created_at=now - timedelta(hours=2),
        )
        session.add(sent)
        session.flush()
        session.add(MessageStatusEvent(outbound_id=sent.id, twilio_sid="SMcancelout01", status="failed"))
        session.add(OutboxEntry(outbound_id=sent.id, last_error=f"21211 invalid To {phone}", gave_up=True))
        session.add(OptOutEvent(phone=phone, action="opt_out", keyword="BAJA", medium="whatsapp"))
        session.add(Consent(phone=phone, accepted=True, notice_version="2025-03"))
        session.add(PhoneVerification(phone=phone, farmer_id=farmer_id, failed_attempts=1, lockouts=0))
        session.add(PaymentAccessLog(phone=phone, farmer_id=farmer_id, invoice_folios="F-1"))
        session.add(
            HumanRequest(
                phone=phone,
                conversation_id=phone,
                farmer_id=farmer_id,
                reason="asked",
                last_message=TO_A_PERSON,
            )
        )
        session.add(
            ConsoleReply(
                phone=phone,
                farmer_id=farmer_id,
                medium="sms",
                body=STAFF_WROTE,
                username="officer",
                status="sent",
            )
        )
        session.add(ConsoleReview(sender_id=phone, reviewed=True, note=REVIEW_NOTE, tags="pago"))
        session.add(
            ConsoleCorrection(
                event_id=987654,
                sender_id=phone,
                text=FROM_TRACKER[0],
                intent="ask_trainings",
                corrected_by="officer",
            )
        )


def _kept(url: str, farmer_id: int) -> dict[str, int]:
    with session_scope(url) as session:
        return {
            model.__tablename__: session.execute(
                select(func.count()).select_from(model).where(model.farmer_id == farmer_id)
            ).scalar()
            for model in (Invoice, Delivery, Enrolment, PaymentAccessLog)
        }


def test_cancellation_leaves_nothing_of_the_farmer_but_what_must_be_kept(console_env, client_for, tmp_path):
    url, tracker_url = console_env.url, console_env.tracker_url
    farmer_id, name = farmer_of(url, ADRIANA)
    _seed_everything(url, farmer_id, ADRIANA)
    client = client_for("officer")
    client.get(f"/conversaciones/{ADRIANA}")  # copies the tracker into console_messages; audited
    client.get(f"/productores/{farmer_id}")  # audited

    # a rectification first: her former name is in its step
    fix = record(client, farmer_id, "rectification", identity=f"INE de {name}; llamó del 244 100 0003")
    with session_scope(url) as session:
        farmer = session.get(Farmer, farmer_id)
        form = {
            "name": NEW_NAME,
            "municipality": farmer.municipality,
            "state": farmer.state,
            "organisation_id": str(farmer.organisation_id or ""),
            "preferred_medium": farmer.preferred_medium,
        }
    client.post(f"/arco/{fix}/rectificar", data={**form, "csrf_token": token_of(client, f"/arco/{fix}")})
    oppose = record(client, farmer_id, "opposition")
    client.post(
        f"/arco/{oppose}/oponer",
        data={
            "csrf_token": token_of(client, f"/arco/{oppose}"),
            "purposes": ["broadcasts"],
            "phone": ADRIANA,
        },
    )
    kept = _kept(url, farmer_id)
    assert kept["invoices"] and kept["deliveries"] and kept["payment_access_log"]

    needles = [
        ADRIANA,
        ADRIANA[-10:],
        name,
        NEW_NAME,
        SHE_WROTE,
        WE_WROTE,
        STAFF_WROTE,
        TO_A_PERSON,
        REVIEW_NOTE,
    ]
    needles += FROM_TRACKER
    before = occurrences(url, tracker_url, needles)
    assert {needle for _, _, needle in before} == set(needles)  # the search sees each of them
    assert ("events", "data", FROM_TRACKER[0]) in before and ("farmers", "name", NEW_NAME) in before

    request_id = record(client, farmer_id, "cancellation", identity=f"{NEW_NAME} en persona, INE")
    token = token_of(client, f"/arco/{request_id}")
    # a cancellation is not "answered" by closing it; the supresión needs the bloqueo first; the
    # bloqueo needs its box
    client.post(f"/arco/{request_id}/cerrar", data={"csrf_token": token, "outcome": "done"})
    client.post(f"/arco/{request_id}/suprimir", data={"csrf_token": token, "confirm": "y"})
    client.post(f"/arco/{request_id}/bloquear", data={"csrf_token": token})
    with session_scope(url) as session:
        assert session.get(ArcoRequest, request_id).status == "open"
        assert session.get(Farmer, farmer_id).name == NEW_NAME
    client.post(f"/arco/{request_id}/bloquear", data={"csrf_token": token, "confirm": "y"})
    with session_scope(url) as session:
        request = session.get(ArcoRequest, request_id)
        assert request.status == "blocked" and request.blocked_phones == ADRIANA
        assert farmers_for_phone(session, ADRIANA) == []  # the assistant no longer knows her there
    # in bloqueo, only the supresión ends it (a refusal would leave her numbers unlinked)
    client.post(
        f"/arco/{request_id}/cerrar",
        data={"csrf_token": token, "outcome": "rejected", "note": "Se arrepintió"},
    )
    with session_scope(url) as session:
        assert session.get(ArcoRequest, request_id).status == "blocked"

    # the tracker store cannot be written: nothing changes, staff can try again
    with session_scope(url) as session:
        request = session.get(ArcoRequest, request_id)
        refused = arco_cancellation.suppress(
            session, StaffUser(1, "officer", "officer"), request, f"sqlite:///{tmp_path}"
        )
    assert not refused.ok
    assert {needle for _, _, needle in occurrences(url, tracker_url, needles)} == set(needles)
    with session_scope(url) as session:
        assert session.get(ArcoRequest, request_id).status == "blocked"
        assert session.get(Farmer, farmer_id).name == NEW_NAME

    page = client.get(f"/arco/{request_id}").get_data(as_text=True)
    assert "Suprimir (paso 2)" in page
    response = client.post(
        f"/arco/{request_id}/suprimir",
        data={"csrf_token": token_of(client, f"/arco/{request_id}"), "confirm": "y"},
    )
    assert response.status_code == 302

    left = occurrences(url, tracker_url, needles)
    assert left == set(), sorted(left)
    assert _kept(url, farmer_id) == kept
    with session_scope(url) as session:
        farmer = session.get(Farmer, farmer_id)
        assert farmer.name == f"Titular cancelado #{farmer_id}" and farmer.pin_hash is None
        assert session.execute(select(FarmerPhone).where(FarmerPhone.farmer_id == farmer_id)).first() is None
        assert all(
            i.farmer_id == farmer_id
            for i in session.execute(select(Invoice).where(Invoice.farmer_id == farmer_id)).scalars()
        )
        request = session.get(ArcoRequest, request_id)
        assert request.status == "done" and request.blocked_phones is None and request.closed_at
        steps = session.execute(select(ArcoStep).where(ArcoStep.request_id == request_id)).scalars().all()
        assert [s.action for s in steps] == ["recorded", "blocked", "suppressed", "closed"]
        message = session.execute(
            select(InboundMessage).where(InboundMessage.message_sid == "SMcancel0001")
        ).scalar_one()
        assert message.body == "" and message.raw_params is None and message.media_json is None
        assert message.phone == f"cancelado-{farmer_id}" and message.num_media == 1  # the row stays
    rectified = steps_of(url, fix)[-1]
    assert (
        rectified.action == "rectified"
        and "Nombre: «[dato suprimido]» → «[dato suprimido]»" in rectified.detail
    )
    page = client.get(f"/arco/{request_id}").get_data(as_text=True)
    assert "supresión: datos borrados o anonimizados" in page and f"Titular cancelado #{farmer_id}" in page
    # what an access request for the anonymised subject would hand out holds none of it either
    access = record(client, farmer_id, "access")
    raw = client.get(f"/arco/{access}/acceso.json").get_data(as_text=True)
    assert not [n for n in needles if n.lower() in raw.lower()]


def test_a_family_phone_stays_with_the_other_farmer(console_env, client_for):
    url, tracker_url = console_env.url, console_env.tracker_url
    with session_scope(url) as session:
        guadalupe, juan = (
            session.execute(
                select(Farmer).join(FarmerPhone).where(FarmerPhone.phone == FAMILY).order_by(Farmer.name)
            )
            .scalars()
            .all()
        )
        juan_id, juan_name, guadalupe_id = juan.id, juan.name, guadalupe.id
        session.add(Consent(phone=FAMILY, accepted=True, notice_version="2025-03"))
    assert juan_name.startswith("Juan")
    client = client_for("admin")
    client.get(f"/conversaciones/{FAMILY}")
    family_said = "kiero saber del kalibre 32 de aguacate"
    assert occurrences(url, tracker_url, [family_said])
    request_id = record(client, juan_id, "cancellation")
    page = client.get(f"/arco/{request_id}").get_data(as_text=True)
    assert "compartido con" in page and guadalupe.name in page
    for step in ("bloquear", "suprimir"):
        client.post(
            f"/arco/{request_id}/{step}",
            data={"csrf_token": token_of(client, f"/arco/{request_id}"), "confirm": "y"},
        )
    assert occurrences(url, tracker_url, [juan_name, family_said]) == set()
    with session_scope(url) as session:
        assert [f.id for f in farmers_for_phone(session, FAMILY)] == [guadalupe_id]
        assert session.execute(select(Consent).where(Consent.phone == FAMILY)).first() is not None
        assert session.get(ArcoRequest, request_id).status == "done"
