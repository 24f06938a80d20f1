"""Calibres asked about by their number after an explanation or a size answer, as farmers write
them ("¿y cuánto pesa uno de esos?", "el 70 ¿sí me lo compran?", "¿y los más chicos que el 60?"),
answered from the program's table."""

from __future__ import annotations

from bot.db import session_scope
from bot.records.standards import calibre_table
from tests.assistant.phone import NEW, Phone


def _table(url: str) -> dict[int, object]:
    with session_scope(url) as s:
        rows = calibre_table(s)
        s.expunge_all()
    return {row.calibre: row for row in rows}


def test_the_weight_of_a_calibre_just_explained_and_whether_one_is_bought(db):
    table = _table(db)
    phone = Phone(NEW, "sms")
    explained = phone.send("ask_explanation", "oiga q quiere decir calibre 48, asi me salio en mi nota")
    assert "caja" in explained
    weight = phone.send("follow_up", "y cuanto pesa uno de esos")
    assert f"{table[48].weight_min_g} a {table[48].weight_max_g} g" in weight
    assert not table[70].purchased
    assert "no lo compra" in phone.send("ask_howto", "el 70 si me lo compran?")


def test_a_calibre_by_its_number_and_the_ones_smaller_or_bigger(db):
    table = _table(db)
    phone = Phone(NEW, "sms")
    phone.send("ask_avocado_size", "q calibres me compran")
    answer = phone.send("ask_explanation", "y el 60 q es, de los chicos?", weight="60")
    assert f"{table[60].weight_min_g} g" in answer and "Calibre 60" in answer
    smaller = phone.send("nlu_fallback", "y los mas chiquitos q el 60 no me los compran?", weight="60")
    assert all(str(n) in smaller for n in table if n > 60) and "no los compra" in smaller
    bigger = phone.send("ask_avocado_size", "y los mas grandes q el 48?")
    assert all(str(n) in bigger for n in table if n < 48) and "los compra" in bigger


def test_why_kilos_were_rejected_naming_the_reason_explains_it(db):
    phone = Phone(NEW, "sms")
    answer = phone.send(
        "ask_explanation", "y xq me rechazaron esos 23 kilos, dice calibre fuera de rango", weight="23 kilos"
    )
    assert "Calibre fuera de rango" in answer and "no parece de un aguacate" not in answer
