"""GSM-7 shaping, SMS part counting and WhatsApp packing (pure functions)."""

from __future__ import annotations

import pytest

from bot.messaging.formatting import (
    GSM7_BASIC,
    collected_texts,
    is_gsm7,
    pack_sms,
    pack_whatsapp,
    shape_sms_text,
    sms_parts,
    strip_bold,
    to_gsm7,
)


@pytest.mark.parametrize(
    "raw, shaped",
    [
        ("Capacitación en Uruapan, Michoacán", "Capacitacion en Uruapan, Michoacan"),
        ("ÁÍÓÚ áíóú", "AIOU aiou"),
        ("é É ñ Ñ ü Ü ¿ ¡ à è ù ì ò Ä Ö ä ö ß Ø å", "é É ñ Ñ ü Ü ¿ ¡ à è ù ì ò Ä Ö ä ö ß Ø å"),
        ("ê â î ô û ç", "e a i o u c"),
        ("¡Listo! 👍✅ Su pago ya salió 🎉", "¡Listo! Su pago ya salio"),
        ("“Calidad” – ‘extra’…", "\"Calidad\" - 'extra'..."),
        ("1️⃣ Pagos\n2️⃣ Capacitaciones", "1 Pagos\n2 Capacitaciones"),
        ("Precio € [100] {x} ~ ^ | \\", "Precio € [100] {x} ~ ^ | \\"),
        ("25 °C", "25 C"),
        ("a\u00a0b", "a b"),
    ],
)
def test_to_gsm7(raw, shaped):
    assert to_gsm7(raw) == shaped
    assert is_gsm7(to_gsm7(raw))


def test_the_whole_basic_table_survives():
    text = "".join(sorted(GSM7_BASIC - {"\r"}))
    assert is_gsm7(to_gsm7(text))
    assert set(to_gsm7(text)) == set(text.strip())


@pytest.mark.parametrize(
    "raw, plain",
    [
        ("Su factura *F-204518* está *pagada*.", "Su factura F-204518 está pagada."),
        ("2 * 3 = 6", "2 * 3 = 6"),
        ("*Pagos*\n*Capacitaciones*", "Pagos\nCapacitaciones"),
        ("precio*kg", "precio*kg"),
    ],
)
def test_strip_bold(raw, plain):
    assert strip_bold(raw) == plain


@pytest.mark.parametrize(
    "text, parts, units",
    [
        ("", 1, 0),
        ("a" * 160, 1, 160),
        ("a" * 161, 2, 161),
        ("a" * 306, 2, 306),
        ("a" * 307, 3, 307),
        ("a" * 459, 3, 459),
        ("a" * 460, 4, 460),
        ("€" * 80, 1, 160),  # extension characters count twice
        ("€" * 81, 2, 162),
        ("a" * 152 + "€" + "a" * 10, 2, 164),  # the escape pair is not split: moves to part 2
        ("ñé¿¡ü" * 32, 1, 160),  # Spanish GSM-7 letters cost one septet
    ],
)
def test_gsm7_parts(text, parts, units):
    result = sms_parts(text)
    assert (result.encoding, result.parts, result.units) == ("GSM-7", parts, units)


def test_escape_pair_at_part_boundary():
    # 152 'a' + '€' (2 septets) fits exactly 154 > 153: the pair moves to the next part
    assert sms_parts("a" * 152 + "€" + "a" * 160).parts == 3
    assert sms_parts("a" * 151 + "€" + "a" * 153).parts == 2


@pytest.mark.parametrize(
    "text, parts",
    [("á" * 70, 1), ("á" * 71, 2), ("á" * 134, 2), ("á" * 135, 3), ("😀" * 35, 1), ("😀" * 36, 2)],
)
def test_ucs2_parts(text, parts):
    assert sms_parts(text).encoding == "UCS-2"
    assert sms_parts(text).parts == parts


def test_one_turn_is_joined_into_one_sms_when_it_saves_parts():
    bodies = pack_sms(["¡Hola! Soy el asistente.", "¿Qué desea consultar?\n1. Pagos\n2. Capacitaciones"])
    assert bodies == ["¡Hola! Soy el asistente.\n\n¿Qué desea consultar?\n1. Pagos\n2. Capacitaciones"]


def test_joining_never_costs_more_parts_than_separate_messages():
    first, second = "a" * 160, "b" * 150  # joined: 312 septets = 3 parts; apart: 1 + 1
    bodies = pack_sms([first, second])
    assert bodies == [first, second]
    assert sum(sms_parts(b).parts for b in bodies) == 2


def test_paragraphs_are_not_split_into_separate_messages():
    text = "Primero.\n\nSegundo.\n\nTercero."
    assert pack_sms([text]) == ["Primero.\n\nSegundo.\n\nTercero."]


def test_narrow_join_when_the_blank_line_would_cost_a_part():
    a, b = "a" * 100, "b" * 59  # a + "\n\n" + b = 161 (2 parts); a + "\n" + b = 160 (1 part)
    assert pack_sms([a, b]) == [a + "\n" + b]


def test_a_long_reply_is_split_at_words_into_bodies_of_at_most_three_parts():
    text = " ".join(["palabra"] * 300)  # ~2,400 characters
    bodies = pack_sms([text])
    assert len(bodies) >= 2
    assert all(sms_parts(b).parts <= 3 and is_gsm7(b) for b in bodies)
    assert " ".join(bodies).split() == text.split()


def test_sms_body_is_always_gsm7():
    bodies = pack_sms(["🌽🥑 *Aguacate* calibre 48: 227–283 g 👌"])
    assert bodies == ["Aguacate calibre 48: 227-283 g"]


def test_whatsapp_keeps_everything_in_one_message():
    texts = ["¡Hola, *Rosa*! 👋", "¿Qué desea consultar?\n1. Pagos\n2. Capacitaciones"]
    assert pack_whatsapp(texts) == ["¡Hola, *Rosa*! 👋\n\n¿Qué desea consultar?\n1. Pagos\n2. Capacitaciones"]


def test_whatsapp_splits_only_above_1600_characters():
    bodies = pack_whatsapp(["á" * 1000, "é" * 1000])
    assert bodies == ["á" * 1000, "é" * 1000]


def test_buttons_become_one_numbered_list_in_the_same_message():
    messages = [
        {
            "recipient_id": "x",
            "text": "¿Qué desea consultar?",
            "buttons": [{"title": "Pagos", "payload": "/a"}, {"title": "Capacitaciones", "payload": "/b"}],
        }
    ]
    assert collected_texts(messages) == ["¿Qué desea consultar?\n1. Pagos\n2. Capacitaciones"]
    assert pack_sms(collected_texts(messages)) == ["¿Qué desea consultar?\n1. Pagos\n2. Capacitaciones"]


def test_shape_keeps_spanish_punctuation():
    assert shape_sms_text("¿Cuándo es la próxima capacitación? ¡Gracias!") == (
        "¿Cuando es la proxima capacitacion? ¡Gracias!"
    )
