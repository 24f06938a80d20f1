"""Shaping the assistant's replies for each medium.

SMS goes out in the GSM 03.38 default alphabet only (7-bit, 160 characters in one part, 153 per
part when concatenated), so that a basic phone shows it and the farmer pays the fewest parts.
WhatsApp keeps accents, emoji and ``*bold*``. Buttons, when an action uses them, become one
numbered list inside the same message, never one message per option.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.replies.catalog import numbered

# GSM 03.38 default alphabet (the escape 0x1B is not a printable character).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: each of these costs two septets (escape + character).
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

SMS_SINGLE_SEPTETS = 160
SMS_PART_SEPTETS = 153
UCS2_SINGLE_CHARS = 70
UCS2_PART_CHARS = 67
SMS_MAX_PARTS = 3
WHATSAPP_MAX_CHARS = 1600  # Twilio's limit for a message body

# Characters outside GSM-7 with a sensible replacement (others are folded or dropped).
_TRANSLITERATIONS = {
    "“": '"',
    "”": '"',
    "„": '"',
    "«": '"',
    "»": '"',
    "‘": "'",
    "’": "'",
    "‚": "'",
    "`": "'",
    "´": "'",
    "–": "-",
    "—": "-",
    "‐": "-",
    "‑": "-",
    "−": "-",
    "…": "...",
    "•": "-",
    "·": "-",
    "▪": "-",
    "►": ">",
    "→": "->",
    "←": "<-",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\t": " ",
    "°": "",
    "º": "o",
    "ª": "a",
    "×": "x",
    "÷": "/",
    "½": "1/2",
    "¼": "1/4",
    "¾": "3/4",
    "ç": "c",
    "©": "(c)",
    "®": "(R)",
    "™": "TM",
    "₡": "",
    "¢": "c",
    "\u200b": "",
    "\u200d": "",
    "\ufe0f": "",
    "\ufe0e": "",
    # Keycap digits ("1️⃣") lose the keycap mark and keep the digit.
    "\u20e3": "",
}
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_SPACES = re.compile(r"[ ]{2,}")


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def septets(text: str) -> int:
    return sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)


def strip_bold(text: str) -> str:
    """'*Pagos*' -> 'Pagos' (WhatsApp bold markers mean nothing on a basic phone)."""
    return _BOLD.sub(r"\1", text)


def _to_gsm7_char(ch: str) -> str:
    if ch in GSM7_BASIC or ch in GSM7_EXTENSION:
        return ch
    if ch in _TRANSLITERATIONS:
        return _TRANSLITERATIONS[ch]
    folded = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if folded and all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in folded):
        return folded  # á -> a, Í -> I, â -> a, ﬁ -> fi
    return ""  # emoji, pictographs and scripts GSM-7 cannot show


def to_gsm7(text: str) -> str:
    """Only GSM-7 characters: á->a, Í->I, emoji dropped; é ñ ü ¿ ¡ stay as they are."""
    text = unicodedata.normalize("NFC", text or "")
    out = "".join(_to_gsm7_char(ch) for ch in text)
    lines = [_SPACES.sub(" ", line).strip() for line in out.replace("\r\n", "\n").split("\n")]
    out = "\n".join(lines)
    out = re.sub(r"\n{3,}", "\n\n", out)
    return out.strip()


def shape_sms_text(text: str) -> str:
    return to_gsm7(strip_bold(text))


@dataclass(frozen=True)
class SmsParts:
    encoding: str  # "GSM-7" or "UCS-2"
    parts: int
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2


def sms_parts(text: str) -> SmsParts:
    """How many billed parts the text takes, as a handset concatenates it."""
    if is_gsm7(text):
        units = septets(text)
        if units <= SMS_SINGLE_SEPTETS:
            return SmsParts("GSM-7", 1, units)
        parts, room = 1, SMS_PART_SEPTETS
        for ch in text:
            cost = 2 if ch in GSM7_EXTENSION else 1
            if cost > room:  # an escape pair is never split across parts
                parts += 1
                room = SMS_PART_SEPTETS
            room -= cost
        return SmsParts("GSM-7", parts, units)
    units = len(text.encode("utf-16-le")) // 2
    if units <= UCS2_SINGLE_CHARS:
        return SmsParts("UCS-2", 1, units)
    parts, room = 1, UCS2_PART_CHARS
    for ch in text:
        cost = len(ch.encode("utf-16-le")) // 2
        if cost > room:
            parts += 1
            room = UCS2_PART_CHARS
        room -= cost
    return SmsParts("UCS-2", parts, units)


def options_list(buttons: Sequence[dict[str, Any]] | None) -> str:
    """Buttons as one numbered list: '1. Pagos\\n2. Capacitaciones'."""
    titles = (str(button.get("title") or button.get("payload") or "").strip() for button in buttons or ())
    return numbered([title for title in titles if title])


def collected_texts(messages: Iterable[dict[str, Any]]) -> list[str]:
    """The texts of one turn from Rasa's CollectingOutputChannel, in order.

    Buttons go inside the same message as a numbered list; an image or attachment becomes its
    link; custom payloads with a ``text`` key are used as text.
    """
    texts: list[str] = []
    for message in messages:
        pieces = []
        if message.get("text"):
            pieces.append(str(message["text"]).strip())
        if message.get("buttons"):
            pieces.append(options_list(message["buttons"]))
        for key in ("image", "attachment"):
            if message.get(key):
                pieces.append(str(message[key]))
        custom = message.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("text"), str):
            pieces.append(custom["text"].strip())
        text = "\n".join(p for p in pieces if p)
        if text:
            texts.append(text)
    return texts


# --------------------------------------------------------------------------------------------
# Packing a turn's messages into as few SMS bodies and parts as possible


def _split_long(text: str, fits: Callable[[str], bool]) -> list[str]:
    """Split one paragraph that does not fit into chunks that do: at lines, then words."""
    chunks: list[str] = []
    current = ""
    tokens = re.split(r"(\n)", text)
    words: list[str] = []
    for token in tokens:
        if token == "\n":
            words.append("\n")
        else:
            words.extend(re.split(r"(?<= )", token))
    for word in words:
        if not word:
            continue
        candidate = current + word
        if fits(candidate.strip()):
            current = candidate
            continue
        if current.strip():
            chunks.append(current.strip())
        current = word.lstrip("\n")
        while current and not fits(current.strip()):  # a single huge "word"
            cut = len(current)
            while cut > 1 and not fits(current[:cut]):
                cut = cut * 3 // 4
            chunks.append(current[:cut])
            current = current[cut:]
    if current.strip():
        chunks.append(current.strip())
    return chunks


def pack_sms(texts: Sequence[str], max_parts: int = SMS_MAX_PARTS) -> list[str]:
    """The bodies to send for one turn: GSM-7, each at most ``max_parts`` parts.

    Consecutive messages (and Rasa's paragraphs) are joined into one body whenever that does not
    cost more parts, choosing the partition with the fewest parts, then the fewest bodies.
    """
    units: list[str] = []
    for text in texts:
        for paragraph in re.split(r"\n\s*\n", shape_sms_text(text)):
            paragraph = paragraph.strip()
            if paragraph:
                units.append(paragraph)
    if not units:
        return []

    def fits(body: str) -> bool:
        return sms_parts(body).parts <= max_parts

    pieces: list[str] = []
    for unit in units:
        pieces.extend([unit] if fits(unit) else _split_long(unit, fits))

    def join(group: Sequence[str]) -> str:
        wide = "\n\n".join(group)
        narrow = "\n".join(group)
        return narrow if sms_parts(narrow).parts < sms_parts(wide).parts else wide

    n = len(pieces)
    best: list[tuple[int, int] | None] = [None] * (n + 1)  # (parts, bodies) for prefix
    choice = [0] * (n + 1)
    best[0] = (0, 0)
    for end in range(1, n + 1):
        for start in range(end - 1, -1, -1):
            body = join(pieces[start:end])
            parts = sms_parts(body).parts
            if parts > max_parts:
                break
            prev = best[start]
            if prev is None:
                continue
            cost = (prev[0] + parts, prev[1] + 1)
            known = best[end]
            if known is None or cost < known:
                best[end] = cost
                choice[end] = start
    bodies: list[str] = []
    end = n
    while end > 0:
        start = choice[end]
        bodies.append(join(pieces[start:end]))
        end = start
    return list(reversed(bodies))


def pack_whatsapp(texts: Sequence[str], max_chars: int = WHATSAPP_MAX_CHARS) -> list[str]:
    """One WhatsApp message per turn (paragraphs kept), split only above Twilio's 1,600 chars."""
    paragraphs = [p.strip() for t in texts for p in re.split(r"\n\s*\n", t) if p.strip()]
    if not paragraphs:
        return []

    def fits(body: str) -> bool:
        return len(body) <= max_chars

    bodies: list[str] = []
    current = ""
    for paragraph in paragraphs:
        for piece in [paragraph] if fits(paragraph) else _split_long(paragraph, fits):
            candidate = f"{current}\n\n{piece}" if current else piece
            if fits(candidate):
                current = candidate
            else:
                bodies.append(current)
                current = piece
    if current:
        bodies.append(current)
    return bodies


def pack_for_medium(medium: str, texts: Sequence[str]) -> list[str]:
    return pack_sms(texts) if medium == "sms" else pack_whatsapp(texts)
