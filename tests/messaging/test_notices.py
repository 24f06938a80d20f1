"""Payment notices (issue 14, slice 1), on SQLite and PostgreSQL: planned once from what changed
in the invoices, released only when every rule allows (BAJA, consent, opposition, night where the
farmer lives, WhatsApp's window and templates), stored as the farmer's next message, and shaped
as proactive replies (the template outside the window). The sentences are read from the records,
never typed here."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest
from alembic import command
from sqlalchemy import func, select

from bot.db import session_scope
from bot.messaging import inbound, inbound_work, notices, optout, outbound
from bot.messaging.inbound import NOTICE, Inbound
from bot.messaging.notice_loop import NoticeLoop, store_in_queue_order
from bot.messaging.notices import NoticeSettings
from bot.messaging.outbound import Outgoing
from bot.messaging.schema import InboundMessage, OutboundMessage
from bot.messaging.sender import SendResult
from bot.records import consents, oppositions
from bot.records import notices as notice_records
from bot.records.migrate import alembic_config
from bot.records.notice_schema import Notice, NoticeCursor
from bot.records.schema import Farmer, FarmerPhone, Invoice
from bot.records.vocabulary import HOLD_REASONS
from bot.replies.notices import payment_notice
from bot.timeutil import as_utc
from tests.databases import empty_database, make_database

# 15:00 UTC is 09:00 in Mexico City and 08:00 in Sinaloa (no daylight saving time since 2022).
DAYTIME = datetime(2026, 12, 2, 18, 0, tzinfo=timezone.utc)  # 12:00 in Mexico City
NIGHT = datetime(2026, 12, 3, 4, 0, tzinfo=timezone.utc)  # 22:00 in Mexico City, 21:00 in Sinaloa
TEMPLATES = NoticeSettings(templates={"payment": "HX" + "1" * 32})


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request, tmp_path_factory):
    url, cleanup = make_database(request.param, tmp_path_factory.mktemp("notices"))
    yield url
    cleanup()


def _phone() -> str:
    return "+52667" + "".join(random.choice("0123456789") for _ in range(7))


def _farmer(
    url: str, *, state: str = "Michoacán", medium: str = "whatsapp", consent: bool = True
) -> tuple[int, str]:
    phone = _phone()
    with session_scope(url) as s:
        farmer = Farmer(
            folio=f"PP-{uuid.uuid4().hex[:6]}",
            name="Productora de prueba",
            state=state,
            municipality="Municipio",
            preferred_medium=medium,
        )
        s.add(farmer)
        s.flush()
        s.add(FarmerPhone(farmer_id=farmer.id, phone=phone))
        if consent:
            consents.record_consent(s, phone, True)
        return farmer.id, phone


def _invoice(url: str, farmer_id: int, status: str = "in_review", **values) -> str:
    folio = f"F-{random.randint(1000000, 9999999)}"  # 7 digits: never a seeded folio (6)
    with session_scope(url) as s:
        s.add(
            Invoice(
                folio=folio,
                farmer_id=farmer_id,
                amount_mxn=12345,
                status=status,
                issued_on=date(2026, 11, 20),
                **values,
            )
        )
    return folio


def _change(url: str, folio: str, **values) -> None:
    with session_scope(url) as s:
        invoice = s.execute(select(Invoice).where(Invoice.folio == folio)).scalar_one()
        for name, value in values.items():
            setattr(invoice, name, value)


def _plan(url: str, now: datetime) -> int:
    with session_scope(url) as s:
        return notices.plan(s, now, NoticeSettings())


def _start_cursor(url: str) -> None:
    """The planner's first round only sets its cursor: what changed before is never told."""
    with session_scope(url) as s:
        s.execute(NoticeCursor.__table__.delete())
    _plan(url, DAYTIME)


def _notices_of(url: str, phone: str) -> list[Notice]:
    with session_scope(url) as s:
        rows = list(s.execute(select(Notice).where(Notice.phone == phone).order_by(Notice.id)).scalars())
        s.expunge_all()
        return rows


def _release(url: str, now: datetime, settings: NoticeSettings = TEMPLATES) -> list[Inbound]:
    with session_scope(url) as s:
        return notices.release_round(s, settings, now, notices.store_embedded).released


def _paid(url: str, phone_state: str = "Michoacán", **farmer) -> tuple[int, str, str]:
    farmer_id, phone = _farmer(url, state=phone_state, **farmer)
    folio = _invoice(url, farmer_id)
    _start_cursor(url)
    _change(url, folio, status="paid", paid_on=date(2026, 12, 1), bank_reference_last4="4821")
    assert _plan(url, DAYTIME) >= 1
    return farmer_id, phone, folio


# -- planning -----------------------------------------------------------------------------------


def test_a_change_before_notices_were_turned_on_is_never_told(database):
    farmer_id, phone = _farmer(database)
    folio = _invoice(database, farmer_id)
    _change(database, folio, status="paid", paid_on=date(2026, 12, 1))
    with session_scope(database) as s:
        s.execute(NoticeCursor.__table__.delete())
    assert _plan(database, DAYTIME) == 0  # the first round only sets the cursor
    assert _notices_of(database, phone) == []


def test_each_change_is_planned_once_per_phone_and_a_new_change_again(database):
    farmer_id, phone, folio = _paid(database)
    with session_scope(database) as s:  # the farmer's second number
        s.add(FarmerPhone(farmer_id=farmer_id, phone=(second := _phone())))
    _change(database, folio, bank_reference_last4="4821")  # touched, nothing new to tell
    _plan(database, DAYTIME + timedelta(seconds=5))
    _plan(database, DAYTIME + timedelta(seconds=10))
    first = _notices_of(database, phone)
    assert [n.subject for n in first] == [folio]
    assert len(_notices_of(database, second)) == 1
    facts = json.loads(first[0].variables)
    assert facts == {
        "folio": folio,
        "status": "paid",
        "date": "2026-12-01",
        "last4": "4821",
        "reason_code": None,
    }
    assert "amount" not in first[0].variables and "12345" not in first[0].variables
    _change(database, folio, status="on_hold", paid_on=None, status_reason_code="missing_cfdi_xml")
    _plan(database, DAYTIME + timedelta(seconds=20))
    assert [json.loads(n.variables)["status"] for n in _notices_of(database, phone)] == ["paid", "on_hold"]


def test_statuses_that_are_not_news_are_not_told(database):
    farmer_id, phone = _farmer(database)
    folio = _invoice(database, farmer_id, status="received")
    _start_cursor(database)
    _change(database, folio, status="in_review")
    _plan(database, DAYTIME)
    assert _notices_of(database, phone) == []


# -- releasing: who, when, how --------------------------------------------------------------------


def test_released_inside_the_window_as_whatsapp_text_and_stored_as_the_farmers_next_message(database):
    _, phone, folio = _paid(database)
    with session_scope(database) as s:  # the farmer wrote an hour ago
        inbound.store_inbound(s, _written(phone, "whatsapp"), received_at=DAYTIME - timedelta(hours=1))
    released = [m for m in _release(database, DAYTIME) if m.phone == phone]
    assert len(released) == 1 and released[0].kind == NOTICE and released[0].medium == "whatsapp"
    (notice,) = _notices_of(database, phone)
    assert (notice.status, notice.route, notice.message_sid) == (
        "released",
        "whatsapp_text",
        released[0].message_sid,
    )
    with session_scope(database) as s:
        row = s.execute(
            select(InboundMessage).where(InboundMessage.message_sid == notice.message_sid)
        ).scalar_one()
        assert (row.kind, row.phone, row.status) == ("notice", phone, "received")
        # a notice opens no window and is no address to answer to
        assert inbound.last_received_at(s, phone, "whatsapp") == DAYTIME - timedelta(hours=1)
    assert all(m.phone != phone for m in _release(database, DAYTIME + timedelta(minutes=1)))  # once


def test_outside_the_window_the_approved_template_goes_with_the_same_words(database):
    _, phone, folio = _paid(database)
    (message,) = [m for m in _release(database, DAYTIME) if m.phone == phone]
    (notice,) = _notices_of(database, phone)
    assert (notice.route, notice.content_sid) == ("whatsapp_template", TEMPLATES.templates["payment"])
    with session_scope(database) as s:
        (out,) = notices.outgoing_for(s, message, ["(texto de la conversación)"])
        facts = notice_records.variables_of(notice)
        text = payment_notice(facts, notice_records.reason_of(facts), notice_records.what_to_do_of(s, facts))
    assert out.proactive and out.content_sid == TEMPLATES.templates["payment"] and out.body == ""
    variables = json.loads(out.content_variables)
    assert variables["1"] == folio
    assert (
        text == f"Aviso del programa: su factura {folio} {variables['2']}. Escriba PAGOS para ver el detalle."
    )
    assert "4821" in variables["2"] and "$" not in text


def test_outside_the_window_without_a_template_it_goes_by_sms_and_staff_see_why(database):
    _, phone, _ = _paid(database)
    (message,) = [m for m in _release(database, DAYTIME, NoticeSettings()) if m.phone == phone]
    (notice,) = _notices_of(database, phone)
    assert (notice.route, message.medium, message.from_address) == ("sms_no_template", "sms", phone)
    assert "sin plantilla" in notice.status_note
    with session_scope(database) as s:
        shaped = notices.outgoing_for(s, message, ["Aviso del programa: su factura pagada, número 1."])
    assert shaped and all(o.proactive and o.medium == "sms" and not o.content_sid for o in shaped)
    assert all("ú" not in o.body for o in shaped)  # SMS in GSM-7


def _business_initiated_phones(url: str, now: datetime) -> int:
    with session_scope(url) as s:
        opened = select(Notice.phone).where(
            Notice.route == "whatsapp_template", Notice.released_at > now - timedelta(hours=24)
        )
        templates = select(OutboundMessage.phone).where(
            OutboundMessage.content_sid.is_not(None),
            OutboundMessage.created_at > now - timedelta(hours=24),
            OutboundMessage.status != "failed",
        )
        return len(set(s.execute(opened).scalars()) | set(s.execute(templates).scalars()))


def _officer_sent_a_template(url: str, phone: str, at: datetime, status: str = "queued") -> None:
    """An officer's reply from the console outside the window, as bot/messaging/delivery.py
    records it (the console sends it at once, not through the notices)."""
    template = Outgoing(
        "whatsapp",
        phone,
        f"whatsapp:{phone}",
        proactive=True,
        content_sid="HX" + "c" * 32,
        content_variables='{"1": "Buen día, le llamo mañana."}',
    )
    sent = SendResult(ok=status != "failed", attempts=1, sid="SM" + uuid.uuid4().hex, status=status)
    with session_scope(url) as s:
        row_id = outbound.record_outbound(s, template, sent)
        s.get(OutboundMessage, row_id).created_at = at


def test_over_whatsapps_messaging_limit_a_new_farmer_gets_sms_and_one_already_written_to_whatsapp(database):
    _release(database, DAYTIME)  # what earlier tests left scheduled
    limit = _business_initiated_phones(database, DAYTIME) + 1
    settings = replace(TEMPLATES, whatsapp_daily_users=limit)
    first_id, first, first_folio = _paid(database)
    _, second, _ = _paid(database)
    _release(database, DAYTIME, settings)
    assert [n.route for n in _notices_of(database, first)] == ["whatsapp_template"]
    (over,) = _notices_of(database, second)
    assert over.route == "sms" and f"{limit} productores" in over.status_note
    # the first farmer is no new user: a second notice to them keeps to WhatsApp
    _change(database, first_folio, status="on_hold", paid_on=None, status_reason_code="missing_cfdi_xml")
    _plan(database, DAYTIME + timedelta(minutes=1))
    _release(database, DAYTIME + timedelta(minutes=1), settings)
    assert [n.route for n in _notices_of(database, first)] == ["whatsapp_template", "whatsapp_template"]
    # a day later the place is free again
    _, third, _ = _paid(database)
    _release(database, DAYTIME + timedelta(hours=25), settings)
    assert [n.route for n in _notices_of(database, third)] == ["whatsapp_template"]


def test_an_officers_template_reply_takes_a_place_under_whatsapps_messaging_limit(database):
    _release(database, DAYTIME)  # what earlier tests left scheduled
    limit = _business_initiated_phones(database, DAYTIME) + 2
    settings = replace(TEMPLATES, whatsapp_daily_users=limit)
    _, refused = _farmer(database)
    _officer_sent_a_template(database, refused, DAYTIME - timedelta(hours=1), status="failed")
    _, written_to = _farmer(database)
    _officer_sent_a_template(database, written_to, DAYTIME - timedelta(hours=1))
    _, last_place, _ = _paid(database)  # the officer's template took one place; a refused one none
    _, over_it, _ = _paid(database)
    _release(database, DAYTIME, settings)
    assert [n.route for n in _notices_of(database, last_place)] == ["whatsapp_template"]
    (over,) = _notices_of(database, over_it)
    assert over.route == "sms" and f"{limit} productores" in over.status_note


def test_a_farmer_who_prefers_sms_gets_sms(database):
    _, phone, _ = _paid(database, medium="sms")
    (message,) = [m for m in _release(database, DAYTIME) if m.phone == phone]
    assert message.medium == "sms" and _notices_of(database, phone)[0].route == "sms"


@pytest.mark.parametrize(
    ("setup", "status"),
    [
        (
            lambda s, farmer_id, phone: optout.record_opt(s, phone, "opt_out", "BAJA", "sms"),
            "skipped_opt_out",
        ),
        (lambda s, farmer_id, phone: consents.revoke(s, phone), "skipped_no_consent"),
        (
            lambda s, farmer_id, phone: oppositions.oppose(s, farmer_id, ["notices"], None, None),
            "skipped_opposed",
        ),
    ],
    ids=["BAJA", "consent revoked", "opposed"],
)
def test_never_to_a_number_that_said_baja_revoked_consent_or_opposed(database, setup, status):
    farmer_id, phone, _ = _paid(database)
    with session_scope(database) as s:
        setup(s, farmer_id, phone)
    assert all(m.phone != phone for m in _release(database, DAYTIME))
    (notice,) = _notices_of(database, phone)
    assert notice.status == status and notice.message_sid is None and notice.status_note
    with session_scope(database) as s:
        stored = s.execute(select(func.count()).where(InboundMessage.phone == phone)).scalar()
    assert stored == 0


def test_never_to_a_number_that_never_consented(database):
    _, phone, _ = _paid(database, consent=False)
    _release(database, DAYTIME)
    assert _notices_of(database, phone)[0].status == "skipped_no_consent"


@pytest.mark.parametrize(
    ("state", "morning_utc"),
    [("Michoacán", datetime(2026, 12, 3, 15, 0)), ("Sinaloa", datetime(2026, 12, 3, 16, 0))],
)
def test_at_night_where_the_farmer_lives_it_waits_for_nine_in_the_morning(database, state, morning_utc):
    _, phone, _ = _paid(database, phone_state=state)
    assert all(m.phone != phone for m in _release(database, NIGHT))
    (notice,) = _notices_of(database, phone)
    assert notice.status == "scheduled" and "9:00" in notice.status_note
    morning = morning_utc.replace(tzinfo=timezone.utc)
    assert as_utc(notice.due_at) == morning
    assert all(m.phone != phone for m in _release(database, morning - timedelta(minutes=1)))
    assert [m.phone for m in _release(database, morning) if m.phone == phone] == [phone]


def test_a_notice_takes_the_farmers_next_place_in_the_queue(database):
    _, phone, _ = _paid(database)
    with session_scope(database) as s:
        first = inbound_work.store_in_sequence(s, _written(phone, "whatsapp"), partition=3)
    with session_scope(database) as s:
        (stored,) = [
            x
            for x in notices.release_round(
                s, TEMPLATES, DAYTIME, lambda s_, m: store_in_queue_order(16, s_, m)
            ).released
            if x
        ]
    assert stored.farmer_seq == first.farmer_seq + 1


def test_the_loop_plans_and_releases_in_one_round_and_hands_each_on(database, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database)
    farmer_id, phone = _farmer(database)
    folio = _invoice(database, farmer_id)
    _start_cursor(database)
    _change(database, folio, status="scheduled", scheduled_on=date(2026, 12, 9))
    handed: list[Inbound] = []

    async def on_released(message: Inbound) -> None:
        handed.append(message)

    loop = NoticeLoop(TEMPLATES, notices.store_embedded, on_released, clock=lambda: DAYTIME)
    asyncio.run(loop.run_once())
    asyncio.run(loop.run_once())  # a second round (or a second scheduler) sends nothing again
    assert [m.phone for m in handed if m.phone == phone] == [phone]


def _written(phone: str, medium: str) -> Inbound:
    sid = "SM" + uuid.uuid4().hex
    return Inbound(
        message_sid=sid,
        medium=medium,
        phone=phone,
        from_address=f"whatsapp:{phone}" if medium == "whatsapp" else phone,
        to_address="",
        body="hola",
        profile_name=None,
        wa_id=None,
        media=[],
        location=None,
        raw_params={},
    )


def test_the_reason_of_a_held_invoice_is_the_codes_label():
    assert notice_records.reason_of({"reason_code": "missing_cfdi_xml"}) == HOLD_REASONS["missing_cfdi_xml"]


# -- the revision that lets a notice into inbound_messages -----------------------------------------


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_revision_0012_keeps_the_messages_and_goes_back_and_forth(kind, tmp_path):
    url, cleanup = empty_database(kind, tmp_path)
    try:
        command.upgrade(alembic_config(url), "0011")
        with session_scope(url) as s:
            inbound.store_inbound(s, _written("+524431000999", "sms"))
        command.upgrade(alembic_config(url), "0012")
        with session_scope(url) as s:
            assert s.execute(select(func.count()).select_from(InboundMessage)).scalar() == 1
            notice_message = _written("+524431000999", "sms")
            inbound.store_inbound(s, replace(notice_message, message_sid=notice_records.message_sid_for(1)))
            kinds = sorted(s.execute(select(InboundMessage.kind)).scalars())
        assert kinds == ["notice", "text"]
        command.downgrade(alembic_config(url), "0011")  # the notice message goes with its kind
        command.upgrade(alembic_config(url), "head")
        with session_scope(url) as s:
            assert list(s.execute(select(InboundMessage.kind)).scalars()) == ["text"]
    finally:
        cleanup()


def test_a_round_that_claimed_a_whole_batch_goes_on_at_once_though_it_released_none(database, monkeypatch):
    """Notices skipped (BAJA) or held for the morning fill a batch without being released: the
    loop must not then wait its interval while more are due (make bench-notices found it)."""
    monkeypatch.setenv("DATABASE_URL", database)
    _release(database, DAYTIME)  # what earlier tests left scheduled
    _start_cursor(database)
    phones = []
    for _ in range(5):
        farmer_id, phone = _farmer(database)
        folio = _invoice(database, farmer_id)
        with session_scope(database) as s:
            optout.record_opt(s, phone, "opt_out", "BAJA", "sms")
        _change(database, folio, status="scheduled", scheduled_on=date(2026, 12, 9))
        phones.append(phone)
    settings = replace(TEMPLATES, batch=2, interval=60)

    async def on_released(message: Inbound) -> None:
        raise AssertionError("a number that said BAJA is never released")

    async def run_until_done() -> None:
        loop = NoticeLoop(settings, notices.store_embedded, on_released, clock=lambda: DAYTIME)
        task = asyncio.create_task(loop.run())
        for _ in range(50):
            statuses = [n.status for p in phones for n in _notices_of(database, p)]
            if statuses and all(status == "skipped_opt_out" for status in statuses):
                break
            await asyncio.sleep(0.1)
        loop.request_stop()
        await task

    asyncio.run(run_until_done())
    assert [n.status for p in phones for n in _notices_of(database, p)] == ["skipped_opt_out"] * 5
