"""Quality standards and avocado calibres from the program's reference tables.
Conversations with the assistant's logic, as farmers write, against real seeded databases
(the same flows run through Rasa itself in tests/rasa/test_conversations_e2e.py)."""

from __future__ import annotations

import pytest

from tests.assistant.phone import UNKNOWN, Phone


def test_quality_standard_short_answer_with_source_and_more_detail(db):
    phone = Phone(UNKNOWN)
    answer = phone.send(
        "ask_quality_standard", "que piden pal aguacate de primera", product="aguacate", grade="primera"
    )
    assert "tabla de referencia del programa" in answer and "norma oficial" not in answer
    assert "1. Sí, más detalle" in answer
    detail = phone.send("affirm", "si")
    assert "Fuente:" in detail and "leafconagro" in detail


def test_quality_grade_not_in_records_is_said_plainly(db):
    answer = Phone(UNKNOWN).send(
        "ask_quality_standard", "aguacate de segunda", product="aguacate", grade="segunda"
    )
    assert "No tengo en el registro del programa los requisitos de Segunda para aguacate" in answer


@pytest.mark.parametrize(
    "text, expected",
    [
        ("de 250 gr q calibre es", "calibre 40 o 48"),
        ("doscientos gramos", "entre calibre 50 (cerca de 218 g) y calibre 60"),
        ("calibre cuarenta y ocho cuanto pesa", "48 frutos por caja de 11.3 kg"),
        ("y el 84?", "84 frutos por caja"),
        ("aguacate de medio kilo", "más grande que calibre 36"),
    ],
)
def test_avocado_sizes(db, text, expected):
    answer = Phone(UNKNOWN).send("ask_avocado_size", text)
    assert expected in answer
    assert "no es la norma oficial" in answer
