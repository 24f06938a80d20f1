"""Notices about trainings (issue 14): reminders at their offsets in the venue's time zone, a word
to everyone enrolled when a session moves or is cancelled, reminders that no longer apply dropped
when their time comes, and the farmer's "1" after a reminder confirming they will go; news of new
sessions asked once and announced once. On a seeded SQLite and PostgreSQL database of the
module's own, through the scheduler's plan and release and the assistant's own turn
(tests/assistant/phone.py)."""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import delete, func, select

from bot.assistant import intents
from bot.assistant.trainings import _training_values as _values
from bot.assistant.turn import SLOT_OPTIONS
from bot.db import engine_for, session_scope
from bot.messaging import notices
from bot.messaging.formatting import pack_for_medium, sms_parts
from bot.messaging.inbound import Inbound
from bot.messaging.notice_loop import NoticeLoop
from bot.messaging.notices import NoticeSettings
from bot.records import consents, news
from bot.records.farmers import farmers_for_phone
from bot.records.migrate import alembic_config
from bot.records.notice_schema import NewsChoice, Notice
from bot.records.schema import Enrolment, FarmerPhone, Training
from bot.records.training_notices import ReminderSchedule, reminder_times, training_facts
from bot.records.trainings import EnrolResult, cancel_enrolment, enrol
from bot.replies.catalog import render
from bot.replies.notices import training_notice
from bot.timeutil import as_utc
from tests.assistant.conftest import reset_phone
from tests.assistant.phone import DEMO_PHONES, ROSA, Phone, accepted
from tests.databases import make_database
from tests.support.records import new_training

VENUE_ZONE = "America/Mexico_City"
SETTINGS = NoticeSettings()


@pytest.fixture
def db(own_seeded_db):
    """This module's own seeded database (it enrols Rosa and adds sessions), with the demo
    phones' consent, checks and requests cleared before each test."""
    for number in DEMO_PHONES:
        reset_phone(own_seeded_db, number)
    return own_seeded_db


def _local(day_offset: int, hour: int, minute: int = 0) -> datetime:
    """A moment some days from today, at a local hour of the venue."""
    day = datetime.now(timezone.utc).astimezone(ZoneInfo(VENUE_ZONE)).date() + timedelta(days=day_offset)
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(VENUE_ZONE)).astimezone(timezone.utc)


def _training(url: str, starts_at: datetime, title: str = "Manejo de plagas en aguacate") -> int:
    return new_training(url, starts_at, title=title, zone=VENUE_ZONE)


def _rosa_enrolled(url: str, training_id: int) -> int:
    with session_scope(url) as s:
        farmer = farmers_for_phone(s, ROSA)[0]
        assert enrol(s, training_id, farmer.id) in (EnrolResult.ENROLLED, EnrolResult.ALREADY)
        return farmer.id


def _plan(url: str, now: datetime) -> int:
    with session_scope(url) as s:
        return notices.plan(s, now, SETTINGS)


def _notices(url: str, training_id: int, phone: str = ROSA) -> list[Notice]:
    with session_scope(url) as s:
        code = s.get(Training, training_id).code
        rows = list(
            s.execute(
                select(Notice).where(Notice.subject == code, Notice.phone == phone).order_by(Notice.id)
            ).scalars()
        )
        s.expunge_all()
        return rows


def _release(url: str, now: datetime) -> list[Inbound]:
    with session_scope(url) as s:
        return notices.release_round(s, SETTINGS, now, notices.store_embedded).released


def _change(url: str, training_id: int, **values) -> None:
    with session_scope(url) as s:
        training = s.get(Training, training_id)
        for name, value in values.items():
            setattr(training, name, value)


def test_reminders_two_days_before_and_the_same_morning_at_nine_in_the_venues_zone():
    training = Training(starts_at=_local(10, 11), timezone=VENUE_ZONE)
    times = reminder_times(training, ReminderSchedule())
    assert [days for days, _ in times] == [2, 0]
    assert [at.astimezone(ZoneInfo(VENUE_ZONE)).hour for _, at in times] == [9, 9]
    assert times[0][1].date() == (_local(10, 11) - timedelta(days=2)).date()
    # a session at 9:30 has no same-morning reminder at 9:00: too late to be of use
    early = Training(starts_at=_local(10, 9, 30), timezone=VENUE_ZONE)
    assert [days for days, _ in reminder_times(early, ReminderSchedule())] == [2]


def test_each_reminder_is_planned_once_per_phone(db):
    training_id = _training(db, _local(4, 11))
    _rosa_enrolled(db, training_id)
    now = _local(2, 8)
    _plan(db, now)
    _plan(db, now + timedelta(minutes=1))
    planned = _notices(db, training_id)
    assert sorted(n.kind for n in planned) == ["reminder", "reminder"]
    assert sorted(as_utc(n.due_at).astimezone(ZoneInfo(VENUE_ZONE)).day for n in planned) == sorted(
        {_local(2, 9).astimezone(ZoneInfo(VENUE_ZONE)).day, _local(4, 9).astimezone(ZoneInfo(VENUE_ZONE)).day}
    )


def test_a_farmer_who_enrolled_after_a_reminders_time_does_not_get_it(db):
    training_id = _training(db, _local(1, 11))  # the two-days-before reminder's time has passed
    _rosa_enrolled(db, training_id)
    _plan(db, _local(0, 8))
    assert [n.kind for n in _notices(db, training_id)] == ["reminder"]  # the same morning only


def test_a_session_moved_is_told_once_and_its_old_reminders_are_dropped(db):
    training_id = _training(db, _local(5, 11))
    _rosa_enrolled(db, training_id)
    _plan(db, _local(3, 10))  # the reminders two days before and that morning are planned
    _change(db, training_id, starts_at=_local(8, 16), venue="Auditorio municipal")
    _plan(db, _local(3, 11))
    _plan(db, _local(3, 11, 5))
    kinds = [n.kind for n in _notices(db, training_id)]
    assert kinds.count("training_moved") == 1
    with session_scope(db) as s:
        enrolment = s.execute(select(Enrolment).where(Enrolment.training_id == training_id)).scalar_one()
        assert enrolment.told_venue == "Auditorio municipal"
    # when the old reminder's time comes, it is not sent
    _release(db, _local(3, 11, 30))
    old = [n for n in _notices(db, training_id) if n.kind == "reminder" and as_utc(n.due_at) < _local(4, 0)]
    assert len(old) == 1 and old[0].status == "skipped_stale"
    # the new date has reminders of its own
    _plan(db, _local(6, 10))
    assert any(n.kind == "reminder" and as_utc(n.due_at) > _local(6, 0) for n in _notices(db, training_id))


def test_a_new_venue_drops_the_reminders_that_name_the_old_one(db):
    training_id = _training(db, _local(4, 11))
    _rosa_enrolled(db, training_id)
    with session_scope(db) as s:
        consents.record_consent(s, ROSA, True)
    _plan(db, _local(2, 8))
    _change(db, training_id, venue="Auditorio municipal")
    _plan(db, _local(2, 8, 30))
    _release(db, _local(2, 9, 30))
    by_kind = {n.kind: n for n in _notices(db, training_id) if as_utc(n.due_at) <= _local(2, 9, 30)}
    assert by_kind["reminder"].status == "skipped_stale"
    assert by_kind["training_moved"].status == "released"


def test_a_session_cancelled_is_told_to_everyone_enrolled_once(db):
    training_id = _training(db, _local(6, 11))
    farmer_id = _rosa_enrolled(db, training_id)
    with session_scope(db) as s:
        other = s.execute(select(FarmerPhone).where(FarmerPhone.farmer_id != farmer_id).limit(1)).scalar_one()
        second = other.phone
        enrol(s, training_id, other.farmer_id)
    _change(db, training_id, cancelled=True)
    _plan(db, _local(0, 10))
    _plan(db, _local(0, 10, 5))
    assert [n.kind for n in _notices(db, training_id)] == ["training_cancelled"]
    assert [n.kind for n in _notices(db, training_id, second)] == ["training_cancelled"]


def test_a_reminder_after_the_farmer_cancelled_is_not_sent(db):
    training_id = _training(db, _local(3, 11))
    farmer_id = _rosa_enrolled(db, training_id)
    _plan(db, _local(1, 8))
    with session_scope(db) as s:
        from bot.records.trainings import cancel_enrolment

        assert cancel_enrolment(s, training_id, farmer_id)
    _release(db, _local(1, 9, 30))
    assert [n.status for n in _notices(db, training_id) if as_utc(n.due_at) <= _local(1, 9, 30)] == [
        "skipped_stale"
    ]


def test_the_reminder_is_said_in_the_conversation_and_1_confirms_attendance(db):
    phone = accepted(Phone(ROSA, medium="whatsapp"))  # consent, and a message inside the window
    training_id = _training(db, _local(3, 11), title="Poda de aguacate")
    _rosa_enrolled(db, training_id)
    _plan(db, _local(1, 8))
    released = [m for m in _release(db, _local(1, 9, 1)) if m.phone == ROSA]
    (reminder,) = [n for n in _notices(db, training_id) if n.status == "released"]
    assert [m.message_sid for m in released] == [reminder.message_sid]
    said = phone.send(intents.NOTICE, "", message_id=reminder.message_sid)
    assert said.startswith("Recordatorio del programa: su capacitación Poda de aguacate es el ")
    assert "Casa ejidal de Tingambato" in said and "Responda 1 para confirmar que va." in said
    assert "\n1." not in said  # the sentence asks for the 1 itself: no list under it
    assert "le esperamos en Poda de aguacate" in phone.send(intents.INFORM_NUMBER, "1")
    with session_scope(db) as s:
        enrolment = s.execute(select(Enrolment).where(Enrolment.training_id == training_id)).scalar_one()
        assert enrolment.confirmed_at is not None


def test_a_cancelled_session_offers_other_dates_and_nothing_to_confirm(db):
    phone = accepted(Phone(ROSA, medium="whatsapp"))
    training_id = _training(db, _local(4, 11), title="Riego por goteo")
    _rosa_enrolled(db, training_id)
    _change(db, training_id, cancelled=True)
    _plan(db, _local(0, 10))
    _release(db, _local(0, 10, 1))
    (cancelled,) = _notices(db, training_id)
    said = phone.send(intents.NOTICE, "", message_id=cancelled.message_sid)
    assert "se canceló la capacitación Riego por goteo" in said and "TALLERES" in said
    assert "le esperamos" not in phone.send(intents.INFORM_NUMBER, "1")


def test_the_templates_in_the_docs_say_what_the_conversation_says():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "twilio.md").read_text()
    for kind in ("reminder", "training_moved", "training_cancelled", "training_new"):
        assert render(f"notice_{kind}", title="{{1}}", when="{{2}}", venue="{{3}}") in docs


def test_a_notice_about_any_seeded_training_fits_two_sms_parts(db):
    with session_scope(db) as s:
        trainings = list(s.execute(select(Training)).scalars())
        assert trainings
        for training in trainings:
            facts = training_facts(training)
            for kind in ("reminder", "training_moved", "training_cancelled", "training_new"):
                bodies = pack_for_medium("sms", [training_notice(kind, facts)])
                assert len(bodies) == 1 and sms_parts(bodies[0]).parts <= 2, (kind, training.title)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_revision_0013_goes_back_and_forth_and_enrolments_learn_what_was_told(kind, tmp_path):
    url, cleanup = make_database(kind, tmp_path)
    try:
        training_id = _training(url, _local(6, 11))
        with session_scope(url) as s:
            farmer_id = s.execute(select(FarmerPhone.farmer_id).limit(1)).scalar_one()
            assert enrol(s, training_id, farmer_id) is EnrolResult.ENROLLED
        with session_scope(url) as s:
            notices.plan(s, _local(0, 10), SETTINGS)
            enrolled = s.execute(select(func.count()).select_from(Enrolment)).scalar()
        command.downgrade(alembic_config(url), "0012")  # notices about trainings go with their kinds
        command.upgrade(alembic_config(url), "head")
        with session_scope(url) as s:
            assert s.execute(select(func.count()).select_from(Enrolment)).scalar() == enrolled
            for enrolment in s.execute(select(Enrolment)).scalars():
                assert as_utc(enrolment.told_starts_at) == as_utc(enrolment.training.starts_at)
                assert enrolment.told_venue == enrolment.training.venue
            assert not s.execute(select(Notice).where(Notice.kind != "payment")).scalars().all()
            assert notices.plan(s, _local(0, 10), SETTINGS) >= 0  # plans again on the new columns
    finally:
        engine_for(url).dispose()
        cleanup()


# -- news of new sessions: asked once, a voluntary purpose, then each new session near once --------


def _news(url: str, phone: str, accepted: bool | None) -> None:
    with session_scope(url) as s:
        s.execute(delete(NewsChoice).where(NewsChoice.phone == phone))
        if accepted is not None:
            news.record_choice(s, phone, accepted)


def _announced(url: str, training_id: int) -> bool:
    with session_scope(url) as s:
        return s.get(Training, training_id).announced_at is not None


def test_a_new_session_is_announced_once_to_farmers_near_it_who_asked_for_news(db):
    _news(db, ROSA, True)
    _plan(db, _local(0, 9))  # sessions already there are announced (or not) before this test's
    training_id = _training(db, _local(10, 11), title="Injertos")
    _plan(db, _local(0, 10))
    _plan(db, _local(0, 10, 5))
    assert [n.kind for n in _notices(db, training_id)] == ["training_new"]
    assert _announced(db, training_id)
    with session_scope(db) as s:  # nobody else near it asked for news
        code = s.get(Training, training_id).code
        assert s.execute(select(func.count()).select_from(Notice).where(Notice.subject == code)).scalar() == 1


def test_no_news_without_a_yes_nor_for_a_session_too_soon_or_from_before(db):
    _news(db, ROSA, False)
    later = _training(db, _local(10, 11))
    _plan(db, _local(0, 10))
    assert _notices(db, later) == [] and _announced(db, later)  # announced to nobody: said no
    _news(db, ROSA, True)
    soon = _training(db, _local(0, 18))  # this evening: too late to plan to go
    with session_scope(db) as s:
        before = s.get(Training, _training(db, _local(12, 11)))
        before.created_at = None  # a session from before revision 0015
        before_id = before.id
    _plan(db, _local(0, 10, 5))
    assert _notices(db, soon) == [] and _notices(db, before_id) == []


def test_news_refused_after_it_was_planned_is_not_sent(db):
    _news(db, ROSA, True)
    with session_scope(db) as s:
        consents.record_consent(s, ROSA, True)
    training_id = _training(db, _local(10, 11))
    _plan(db, _local(0, 10))
    _news(db, ROSA, False)
    _release(db, _local(0, 10, 1))
    assert [n.status for n in _notices(db, training_id)] == ["skipped_no_news"]


def test_asked_once_after_the_first_enrolment_and_1_to_news_enrols_after_a_yes(db):
    _news(db, ROSA, None)
    phone = accepted(Phone(ROSA, medium="whatsapp"))
    first = _training(db, _local(8, 11), title="Poda de aguacate")
    with session_scope(db) as s:
        farmer_id = farmers_for_phone(s, ROSA)[0].id
    # as if a listing had offered it as option 1
    phone.slots[SLOT_OPTIONS] = [{"label": "Poda de aguacate", "key": f"{intents.ENROL_TRAINING}:{first}"}]
    assert "¿Confirma su inscripción a Poda de aguacate" in phone.send(intents.INFORM_NUMBER, "1")
    enrolled = phone.send(intents.AFFIRM, "si")
    assert "quedó inscrito" in enrolled and "capacitaciones nuevas cerca de usted" in enrolled
    assert "1. Sí" in enrolled and "2. No" in enrolled
    assert "le enviaremos noticias" in phone.send(intents.INFORM_NUMBER, "1")
    with session_scope(db) as s:
        assert news.wants_news(s, ROSA)
        cancel_enrolment(s, first, farmer_id)
    # news of a new session near her: "1" asks to confirm the enrolment, "sí" enrols
    training_id = _training(db, _local(9, 11), title="Manejo del riego")
    _plan(db, _local(0, 10))
    _release(db, _local(0, 10, 1))
    (announced,) = _notices(db, training_id)
    told = phone.send(intents.NOTICE, "", message_id=announced.message_sid)
    assert told.startswith("Aviso del programa: hay una capacitación nueva cerca de usted: Manejo del riego")
    assert "Responda 1 para inscribirse." in told and "\n1." not in told
    assert "¿Confirma su inscripción a Manejo del riego" in phone.send(intents.INFORM_NUMBER, "1")
    assert "quedó inscrito" in (again := phone.send(intents.AFFIRM, "si"))
    assert "capacitaciones nuevas" not in again  # asked once only


def test_the_enrolment_and_the_news_question_fit_two_sms_parts(db):
    with session_scope(db) as s:
        for training in s.execute(select(Training)).scalars():
            text = "\n".join(
                [
                    render("enrolled", **_values(training)),
                    render("news_ask") + "\n1. Sí\n2. No",
                ]
            )
            assert sum(sms_parts(b).parts for b in pack_for_medium("sms", [text])) <= 2, training.title


def test_the_scheduler_reads_the_sessions_once_a_minute(db):
    training_id = _training(db, _local(5, 11))
    _rosa_enrolled(db, training_id)
    clock = [_local(0, 10)]

    async def handed_on(_message) -> None:
        return None

    loop = NoticeLoop(SETTINGS, notices.store_embedded, handed_on, clock=lambda: clock[0])
    asyncio.run(loop.run_once())
    _change(db, training_id, venue="Auditorio municipal")
    clock[0] += timedelta(seconds=30)
    asyncio.run(loop.run_once())
    assert "training_moved" not in [n.kind for n in _notices(db, training_id)]
    clock[0] += timedelta(seconds=31)
    asyncio.run(loop.run_once())
    assert "training_moved" in [n.kind for n in _notices(db, training_id)]
