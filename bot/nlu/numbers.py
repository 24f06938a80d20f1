"""Numbers as farmers write them: "200 gr", "0.2 kg", "doscientos gramos", "medio kilo",
"calibre cuarenta y ocho", "del 60"."""

from __future__ import annotations

import re

from bot.text import plain

UNITS = {
    "cero": 0,
    "un": 1,
    "uno": 1,
    "una": 1,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
    "seis": 6,
    "siete": 7,
    "ocho": 8,
    "nueve": 9,
    "diez": 10,
    "once": 11,
    "doce": 12,
    "trece": 13,
    "catorce": 14,
    "quince": 15,
    "dieciseis": 16,
    "diecisiete": 17,
    "dieciocho": 18,
    "diecinueve": 19,
    "veinte": 20,
    "veintiuno": 21,
    "veintidos": 22,
    "veintitres": 23,
    "veinticuatro": 24,
    "veinticinco": 25,
    "veintiseis": 26,
    "veintisiete": 27,
    "veintiocho": 28,
    "veintinueve": 29,
}
TENS = {
    "treinta": 30,
    "cuarenta": 40,
    "cincuenta": 50,
    "sesenta": 60,
    "setenta": 70,
    "ochenta": 80,
    "noventa": 90,
}
HUNDREDS = {
    "cien": 100,
    "ciento": 100,
    "doscientos": 200,
    "doscientas": 200,
    "trescientos": 300,
    "trescientas": 300,
    "cuatrocientos": 400,
    "cuatrocientas": 400,
    "quinientos": 500,
    "quinientas": 500,
    "seiscientos": 600,
    "seiscientas": 600,
    "setecientos": 700,
    "setecientas": 700,
    "ochocientos": 800,
    "ochocientas": 800,
    "novecientos": 900,
    "novecientas": 900,
}
NUMBER_WORDS = set(UNITS) | set(TENS) | set(HUNDREDS) | {"y", "mil"}

_DIGIT_WEIGHT = re.compile(r"(\d+(?:[.,]\d+)?)\s*(kg|kgs|kilo|kilos|kilogramos?|g|gr|grs|gramos?|grms?)\b")
_CALIBRE = re.compile(r"\b(?:calibre|calibres|cal|del|de|el|tamano|talla)\s*(\d{2})\b")


def words_to_number(words: list[str]) -> int | None:
    """Spanish number words (up to the thousands) to an int; None if they are not a number."""
    total, current, seen = 0, 0, False
    for word in words:
        if word == "y":
            continue
        if word in UNITS:
            current += UNITS[word]
        elif word in TENS:
            current += TENS[word]
        elif word in HUNDREDS:
            current += HUNDREDS[word]
        elif word == "mil":
            total += (current or 1) * 1000
            current = 0
        else:
            return None
        seen = True
    return total + current if seen else None


def replace_number_words(text: str) -> str:
    """'calibre cuarenta y ocho' -> 'calibre 48' (on folded, lower-case text)."""
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        trailing = []
        while run and run[-1] == "y":
            trailing.append(run.pop())
        value = words_to_number(run) if run else None
        out.extend([str(value)] if value is not None else run)
        out.extend(trailing)
        run.clear()

    for word in plain(text).split():
        if word in NUMBER_WORDS and not (word == "y" and not run):
            run.append(word)
        else:
            flush()
            out.append(word)
    flush()
    return " ".join(out)


def parse_grams(text: str) -> int | None:
    """A weight in grams from a message or an entity value; None when there is no weight."""
    normal = replace_number_words(text)
    if re.search(r"\bmedio kilo\b", normal):
        return 500
    if re.search(r"\b(?:un )?cuarto de kilo\b", normal):
        return 250
    match = _DIGIT_WEIGHT.search(normal)
    if not match:
        return None
    value = float(match.group(1).replace(",", "."))
    unit = match.group(2)
    grams = value * 1000 if unit.startswith("k") else value
    return int(round(grams)) if 0 < grams < 2000 else None


def parse_calibre(text: str) -> int | None:
    normal = replace_number_words(re.sub(r"[^\w\s.,]", " ", text))
    match = _CALIBRE.search(normal)
    if match:
        return int(match.group(1))
    bare = normal.strip()
    return int(bare) if bare.isdigit() and 10 <= int(bare) <= 99 else None
