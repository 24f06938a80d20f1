"""Picking one of the options on offer by what the farmer wrote instead of its number: an
ordinal ("el primero", "la 2da", "el último"), a day ("el del 29"), or words of its label
("el de riego", "soy lupe"). Only a single, unambiguous match counts."""

from __future__ import annotations

import re

from bot.assistant.turn import Option
from bot.text import plain

ORDINALS: dict[str, int] = {
    "primero": 1, "primera": 1, "primer": 1, "1ro": 1, "1ra": 1, "1o": 1, "1a": 1, "uno": 1,
    "segundo": 2, "segunda": 2, "2do": 2, "2da": 2, "2o": 2, "2a": 2, "dos": 2,
    "tercero": 3, "tercera": 3, "tercer": 3, "3ro": 3, "3ra": 3, "3o": 3, "3a": 3, "tres": 3,
    "cuarto": 4, "cuarta": 4, "4to": 4, "4ta": 4, "cuatro": 4,
    "quinto": 5, "quinta": 5, "5to": 5, "5ta": 5, "cinco": 5,
}  # fmt: skip
LAST = ("ultimo", "ultima")
GRADE_ORDINAL = re.compile(r"\b(?:de|pa|para|en|calidad) (primera|segunda)\b")

# Common Mexican nicknames, so a person on a shared phone can answer with the name they use.
NICKNAMES: dict[str, str] = {
    "lupe": "guadalupe", "lupita": "guadalupe", "pepe": "jose", "chepe": "jose", "chuy": "jesus",
    "chucho": "jesus", "paco": "francisco", "pancho": "francisco", "kiko": "francisco",
    "memo": "guillermo", "toño": "antonio", "tono": "antonio", "lalo": "eduardo", "nacho": "ignacio",
    "beto": "alberto", "rosy": "rosa", "rosita": "rosa", "mari": "maria", "mary": "maria",
    "juanita": "juana", "juanito": "juan", "maggie": "margarita", "vero": "veronica",
    "lety": "leticia", "paty": "patricia", "pati": "patricia", "chelo": "consuelo", "tere": "teresa",
    "chayo": "rosario", "miguelito": "miguel", "rafa": "rafael", "chava": "salvador",
    "javi": "javier", "moncho": "ramon", "fer": "fernando", "neto": "ernesto", "luisito": "luis",
}  # fmt: skip

# A plain yes or no, as farmers write it, answering a yes-or-no question on offer.
YES_WORDS = frozenset(
    {"si", "sip", "sii", "simon", "claro", "ok", "okey", "va", "sale", "orale", "dale", "correcto",
     "andale", "esta", "bien", "por", "favor", "porfa", "acepto", "confirmo", "de", "acuerdo"}
)  # fmt: skip
NO_WORDS = frozenset({"no", "nop", "nel", "tampoco", "mejor", "gracias"})
THUMBS_UP = ("👍", "👌")

# Day names as the option labels write them ("sáb 5 dic").
DAYS: dict[str, str] = {
    "lunes": "lun", "martes": "mar", "miercoles": "mie", "jueves": "jue", "viernes": "vie",
    "sabado": "sab", "domingo": "dom",
}  # fmt: skip

# Words that say nothing about which option is meant.
FILLER = frozenset(
    [
        "el",
        "la",
        "los",
        "las",
        "de",
        "del",
        "al",
        "a",
        "y",
        "o",
        "que",
        "q",
        "en",
        "un",
        "una",
        "unos",
        "me",
        "mi",
        "mis",
        "por",
        "para",
        "con",
        "sobre",
        "soy",
        "habla",
        "aqui",
        "yo",
        "quiero",
        "kiero",
        "es",
        "ese",
        "esa",
        "este",
        "esta",
        "eso",
        "ok",
        "va",
        "si",
        "pues",
        "porfa",
        "favor",
        "ir",
        "voy",
        "puedo",
        "poder",
        "ya",
        "no",
        "apunto",
        "apuntame",
        "anotame",
        "inscribeme",
    ]
)


def words_of(text: str) -> list[str]:
    """The meaningful words of a message, accent-folded, nicknames read as full names."""
    words = re.findall(r"[a-z0-9ñ]+", plain(text))
    return [DAYS.get(word, NICKNAMES.get(word, word)) for word in words if word not in FILLER]


def _by_ordinal(options: list[Option], words: list[str]) -> Option | None:
    if any(word in LAST for word in words):
        return options[-1]
    positions = {ORDINALS[word] for word in words if word in ORDINALS}
    if len(positions) == 1:
        position = positions.pop()
        return options[position - 1] if position <= len(options) else None
    return None


def _by_words(options: list[Option], words: list[str], strict: bool = False) -> Option | None:
    """The one option whose label holds every meaningful word written (days as numbers too)."""
    if not words:
        return None
    labels = [set(re.findall(r"[a-z0-9ñ]+", plain(option.label))) for option in options]
    matches = [
        option for option, label in zip(options, labels, strict=True) if all(w in label for w in words)
    ]
    if len(matches) == 1 or strict:
        return matches[0] if len(matches) == 1 else None
    some = [option for option, label in zip(options, labels, strict=True) if any(w in label for w in words)]
    return some[0] if len(some) == 1 else None


def pick_option(options: list[Option], text: str, strict: bool = False) -> Option | None:
    """The offered option the message names, or None when it names none or several. ``strict``:
    only by its order or by every meaningful word written (not by one word of its label)."""
    if not options:
        return None
    words = words_of(text)
    graded = set(GRADE_ORDINAL.findall(plain(text)))  # "¿y de segunda?" is a grade, not option 2
    by_order = _by_ordinal(options, [w for w in words if w not in graded])
    return by_order or _by_words(options, words, strict)
