"""Broadcasts (issue 14): an audience by state, municipality, crop, organisation and medium; an
admin other than the author approves; then one notice per phone that said yes to the program's
news, planned once, released by every rule (BAJA, news withdrawn, opposition, night where the
farmer lives, after the payment notices), sent as the template outside WhatsApp's window and in
2 SMS parts, and said in the farmer's conversation. On this module's own seeded SQLite and
PostgreSQL databases; each test makes farmers of its own municipality."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, select, update

from bot.assistant import intents
from bot.db import engine_for, session_scope
from bot.messaging import notices, optout
from bot.messaging.formatting import pack_for_medium, sms_parts
from bot.messaging.inbound import Inbound
from bot.messaging.notices import NoticeSettings
from bot.messaging.schema import InboundMessage
from bot.records import broadcasts, consents, news, oppositions
from bot.records import notices as notice_records
from bot.records.broadcasts import Audience, NotAllowed
from bot.records.farmers import farmers_for_phone
from bot.records.migrate import alembic_config
from bot.records.notice_schema import Broadcast, NewsChoice, Notice
from bot.records.schema import Invoice, Organisation
from bot.replies.catalog import render
from bot.timeutil import as_utc
from tests.assistant.conftest import reset_phone
from tests.assistant.phone import DEMO_PHONES, ROSA, Phone, accepted
from tests.databases import make_database
from tests.support.records import add_farmer

DAYTIME = datetime(2026, 12, 2, 18, 0, tzinfo=timezone.utc)  # 12:00 in Mexico City
NIGHT = datetime(2026, 12, 3, 4, 0, tzinfo=timezone.utc)  # 22:00 in Mexico City
TEMPLATE = "HX" + "b" * 32
SETTINGS = NoticeSettings(templates={"broadcast": TEMPLATE})
TEXT = (
    "La bodega de Uruapan recibe aguacate el sábado 12 de 7:00 a 14:00. Traiga su folio y sus cajas limpias."
)


@pytest.fixture
def db(own_seeded_db):
    for number in DEMO_PHONES:
        reset_phone(own_seeded_db, number)
    return own_seeded_db


def _place() -> str:
    return f"Municipio {uuid.uuid4().hex[:8]}"


def _farmer(
    url: str,
    municipality: str,
    *,
    state: str = "Michoacán",
    crop: str = "aguacate",
    medium: str = "whatsapp",
    organisation_id: int | None = None,
    news_yes: bool | None = True,
    phone: str | None = None,
) -> tuple[int, str]:
    phone = phone or "+52443" + str(uuid.uuid4().int)[:7]
    with session_scope(url) as s:
        farmer_id = add_farmer(
            s,
            phone,
            state=state,
            municipality=municipality,
            crop=crop,
            medium=medium,
            organisation_id=organisation_id,
        )
        if not consents.has_consented(s, phone):
            consents.record_consent(s, phone, True)
        if news_yes is not None:
            news.record_choice(s, phone, news_yes)
        return farmer_id, phone


def _approved(url: str, audience: Audience, text: str = TEXT) -> int:
    with session_scope(url) as s:
        broadcast = broadcasts.compose(s, text, audience, "tecnica", DAYTIME)
        broadcasts.decide(s, broadcast, True, "admin", DAYTIME)
        return broadcast.id


def _plan(url: str, now: datetime = DAYTIME) -> int:
    with session_scope(url) as s:
        return notices.plan(s, now, SETTINGS, trainings=False)


def _release(url: str, now: datetime = DAYTIME, settings: NoticeSettings = SETTINGS) -> list[Inbound]:
    with session_scope(url) as s:
        return notices.release_round(s, replace(settings, batch=1000), now, notices.store_embedded).released


def _notices(url: str, broadcast_id: int) -> list[Notice]:
    with session_scope(url) as s:
        rows = list(
            s.execute(
                select(Notice)
                .where(Notice.kind == "broadcast", Notice.subject == broadcasts.subject_of(broadcast_id))
                .order_by(Notice.phone)
            ).scalars()
        )
        s.expunge_all()
        return rows


# -- the audience -------------------------------------------------------------------------------


def test_each_filter_narrows_the_audience_and_a_shared_phone_counts_once(db):
    place = _place()
    with session_scope(db) as s:
        organisation = Organisation(name=f"Unión {place}", state="Michoacán", led_by_women=True)
        s.add(organisation)
        s.flush()
        organisation_id = organisation.id
    _, shared = _farmer(db, place, organisation_id=organisation_id)
    _farmer(db, place, phone=shared, crop="tomate")  # the same phone, another farmer of the family
    _farmer(db, place, medium="sms", news_yes=False)
    _farmer(db, place, crop="tomate", news_yes=None)
    _farmer(db, place, state="Jalisco", medium="sms")
    with session_scope(db) as s:

        def count(**filters):
            found = broadcasts.count_audience(s, Audience(municipality=place, **filters))
            return found.farmers, found.phones, found.wanting

        assert count() == (5, 4, 2)
        assert count(state="Michoacán") == (4, 3, 1)
        assert count(product="tomate") == (2, 2, 1)
        assert count(medium="sms") == (2, 2, 1)
        assert count(organisation_id=organisation_id) == (1, 1, 1)
        assert count(state="Jalisco", product="aguacate", medium="sms") == (1, 1, 1)
        assert count(state="Sonora") == (0, 0, 0)
        choices = broadcasts.audience_choices(s)
        assert ("Michoacán", place) in choices.municipalities and "tomate" in choices.products
        assert (organisation_id, f"Unión {place}") in choices.organisations


def test_a_yes_to_the_earlier_question_covers_new_trainings_not_broadcasts(db):
    place = _place()
    _, phone = _farmer(db, place, news_yes=None)
    with session_scope(db) as s:
        s.add(NewsChoice(phone=phone, accepted=True))  # recorded before revision 0016
    with session_scope(db) as s:
        assert news.wants_news(s, phone) and not news.wants_broadcasts(s, phone)
        assert broadcasts.count_audience(s, Audience(municipality=place)).wanting == 0
        news.record_choice(s, phone, True)  # asked again: the question names the program's news
    with session_scope(db) as s:
        assert news.wants_broadcasts(s, phone)


# -- approval and planning ----------------------------------------------------------------------


def test_only_an_admin_other_than_the_author_decides_and_only_once(db):
    with session_scope(db) as s:
        broadcast = broadcasts.compose(s, TEXT, Audience(municipality=_place()), "tecnica", DAYTIME)
        with pytest.raises(NotAllowed):
            broadcasts.decide(s, broadcast, True, "tecnica", DAYTIME)
        assert broadcast.status == "pending"
        broadcasts.decide(s, broadcast, False, "admin", DAYTIME, "  El horario no es correcto. ")
        assert (broadcast.status, broadcast.decision_note) == ("rejected", "El horario no es correcto.")
        with pytest.raises(NotAllowed):
            broadcasts.decide(s, broadcast, True, "otra_admin", DAYTIME)


def test_planned_once_after_approval_one_notice_per_phone_that_wants_news(db):
    place = _place()
    _, yes = _farmer(db, place)
    _farmer(db, place, phone=yes)  # shared phone: once
    _, no = _farmer(db, place, news_yes=False)
    _, unasked = _farmer(db, place, news_yes=None)
    with session_scope(db) as s:
        pending = broadcasts.compose(s, TEXT, Audience(municipality=place), "tecnica", DAYTIME)
        pending_id = pending.id
    _plan(db)
    assert _notices(db, pending_id) == []  # nothing goes before an admin approves
    approved = _approved(db, Audience(municipality=place))
    _plan(db)
    _plan(db, DAYTIME + timedelta(minutes=1))  # a second round, or a second scheduler: nothing new
    (notice,) = _notices(db, approved)
    assert (notice.phone, notice.status, notice.priority) == (yes, "scheduled", 3)
    assert json.loads(notice.variables) == {"broadcast_id": approved, "text": TEXT}
    with session_scope(db) as s:
        broadcast = s.get(Broadcast, approved)
        assert broadcast.planned_at is not None and broadcast.planned == 1
        assert {no, unasked}.isdisjoint(n.phone for n in s.execute(select(Notice)).scalars())


# -- release ------------------------------------------------------------------------------------


def test_released_only_when_every_rule_allows_checked_again_at_release(db):
    place = _place()
    ids = {name: _farmer(db, place) for name in ("ok", "baja", "changed_mind", "opposed", "opposed_notices")}
    broadcast_id = _approved(db, Audience(municipality=place))
    _plan(db)
    with session_scope(db) as s:  # after planning, before the release
        optout.record_opt(s, ids["baja"][1], "opt_out", "BAJA", "sms")
        news.record_choice(s, ids["changed_mind"][1], False)
        oppositions.oppose(s, ids["opposed"][0], ["broadcasts"], None, None)
        oppositions.oppose(s, ids["opposed_notices"][0], ["notices"], None, None)
    released = [m.phone for m in _release(db)]
    assert ids["ok"][1] in released
    statuses = {n.phone: n.status for n in _notices(db, broadcast_id)}
    assert statuses == {
        ids["ok"][1]: "released",
        ids["baja"][1]: "skipped_opt_out",
        ids["changed_mind"][1]: "skipped_no_news",
        ids["opposed"][1]: "skipped_opposed",
        ids["opposed_notices"][1]: "skipped_opposed",
    }


def test_at_night_where_the_farmer_lives_it_waits_for_the_morning(db):
    place = _place()
    _, phone = _farmer(db, place)
    broadcast_id = _approved(db, Audience(municipality=place))
    _plan(db, NIGHT)
    assert phone not in [m.phone for m in _release(db, NIGHT)]
    (notice,) = _notices(db, broadcast_id)
    assert notice.status == "scheduled"
    assert as_utc(notice.due_at) == datetime(2026, 12, 3, 15, 0, tzinfo=timezone.utc)  # 09:00 there


def test_a_payment_notice_goes_before_the_broadcast_planned_earlier(db):
    place = _place()
    farmers = [_farmer(db, place) for _ in range(3)]
    _approved(db, Audience(municipality=place))
    _plan(db)
    _paid_invoice(db, farmers[0][0])
    _plan(db)
    with session_scope(db) as s:
        first = notices.release_round(s, replace(SETTINGS, batch=1), DAYTIME, notices.store_embedded).released
        told = [s.get(Notice, notice_records.notice_id_in(m.message_sid)) for m in first]
        assert [(n.kind, n.phone) for n in told] == [("payment", farmers[0][1])]
    _release(db)


def _paid_invoice(url: str, farmer_id: int) -> None:
    with session_scope(url) as s:
        s.add(
            Invoice(
                folio=f"F-{uuid.uuid4().int % 9000000 + 1000000}",  # 7 digits: never a seeded one
                farmer_id=farmer_id,
                amount_mxn=1000,
                status="paid",
                issued_on=date(2026, 11, 20),
                paid_on=date(2026, 12, 1),
            )
        )


# -- what goes out ------------------------------------------------------------------------------


def test_outside_the_window_the_template_carries_the_text_and_sms_fits_two_parts(db):
    place = _place()
    _, on_whatsapp = _farmer(db, place)
    _, on_sms = _farmer(db, place, medium="sms")
    _approved(db, Audience(municipality=place))
    _plan(db)
    released = {m.phone: m for m in _release(db) if m.phone in (on_whatsapp, on_sms)}
    with session_scope(db) as s:
        (template,) = notices.outgoing_for(s, released[on_whatsapp], ["(texto de la conversación)"])
        said = render("notice_broadcast", text=TEXT)
        (sms,) = notices.outgoing_for(s, released[on_sms], [said])
    assert template.content_sid == TEMPLATE and json.loads(template.content_variables) == {"1": TEXT}
    assert template.proactive and template.body == ""
    assert sms.medium == "sms" and sms.proactive and sms_parts(sms.body).parts <= 2
    assert sms.body == pack_for_medium("sms", [said])[0] and "á" not in sms.body


def test_the_farmers_conversation_says_the_broadcast_and_goes_on(db):
    phone = accepted(Phone(ROSA, medium="whatsapp"))
    with session_scope(db) as s:
        rosa = farmers_for_phone(s, ROSA)[0]
        news.record_choice(s, ROSA, True)
        audience = Audience(state=rosa.state, municipality=rosa.municipality)
    broadcast_id = _approved(db, audience)
    _plan(db)
    _release(db)
    (notice,) = [n for n in _notices(db, broadcast_id) if n.phone == ROSA]
    said = phone.send(intents.NOTICE, "", message_id=notice.message_sid)
    assert said == render("notice_broadcast", text=TEXT)
    assert said.startswith(f"Mensaje del programa: {TEXT}") and "NO NOTICIAS" in said
    assert "Aviso de privacidad" not in phone.send(intents.GREET, "hola")  # the conversation goes on


@pytest.mark.parametrize(
    ("stop", "start"),
    [
        ("NO NOTICIAS", "QUIERO NOTICIAS"),
        ("ya no quiero recibir noticias", "si quiero noticias"),
        ("sin noticias porfa", "noticias si"),
    ],
)
def test_a_farmer_stops_and_restarts_the_news_in_words_and_keeps_the_payment_notices(db, stop, start):
    phone = accepted(Phone(ROSA, medium="whatsapp"))
    with session_scope(db) as s:
        news.record_choice(s, ROSA, True)
    stopped = phone.send(intents.OUT_OF_SCOPE, stop)
    assert stopped == render("news_no") and "pagos" in stopped
    with session_scope(db) as s:
        assert not news.wants_broadcasts(s, ROSA) and not news.wants_news(s, ROSA)
        assert not optout.is_opted_out(s, ROSA)  # only the news: not BAJA
    assert phone.send(intents.OUT_OF_SCOPE, start) == render("news_yes")
    with session_scope(db) as s:
        assert news.wants_broadcasts(s, ROSA)


def test_the_template_in_the_docs_says_what_the_conversation_says():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "twilio.md").read_text()
    assert render("notice_broadcast", text="{{1}}") in docs and "NOTICE_TEMPLATE_BROADCAST" in docs


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_revision_0016_goes_back_and_forth_and_an_earlier_yes_covers_no_broadcast(kind, tmp_path):
    url, cleanup = make_database(kind, tmp_path)
    try:
        place = _place()
        _, phone = _farmer(url, place)
        _approved(url, Audience(municipality=place))
        _plan(url)
        command.downgrade(alembic_config(url), "0015")  # broadcasts go, and their notices
        with session_scope(url) as s:
            assert s.execute(select(func.count()).select_from(Notice)).scalar() == 0
        command.upgrade(alembic_config(url), "head")
        with session_scope(url) as s:
            assert news.wants_news(s, phone) and not news.wants_broadcasts(s, phone)
            assert s.execute(select(func.count()).select_from(Broadcast)).scalar() == 0
        _approved(url, Audience(municipality=place))
        assert _plan(url) == 0  # the yes was to new trainings only
    finally:
        engine_for(url).dispose()
        cleanup()


def test_a_broadcast_fills_only_the_room_the_backlog_leaves_and_payments_never_wait(db):
    with session_scope(db) as s:  # earlier tests' notices are answered: no backlog to start with
        s.execute(update(InboundMessage).where(InboundMessage.kind == "notice").values(status="processed"))
    _release(db)
    place = _place()
    farmers = [_farmer(db, place) for _ in range(5)]
    broadcast_id = _approved(db, Audience(municipality=place))
    _plan(db)
    tight = replace(SETTINGS, backlog=2)
    first = _release(db, settings=tight)
    assert len(first) == 2  # two turns wait in the conversations: the room is full
    paid = next(f for f in farmers if f[1] not in {m.phone for m in first})
    _paid_invoice(db, paid[0])
    _plan(db)
    assert [m.phone for m in _release(db, settings=tight)] == [paid[1]]  # the payment goes anyway
    with session_scope(db) as s:  # the farmers' turns ran
        answered = [m.message_sid for m in first]
        s.execute(
            update(InboundMessage).where(InboundMessage.message_sid.in_(answered)).values(status="processed")
        )
    assert len(_release(db, settings=tight)) == 1  # the payment's turn still waits: room for one
    assert sum(n.status == "scheduled" for n in _notices(db, broadcast_id)) == 2
