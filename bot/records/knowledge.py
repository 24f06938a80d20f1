"""What the program explains and answers that is not a record of a farmer: explanations of
rejection causes, hold reasons, invoice statuses and terms, and the program's how-tos (FAQ).

Both are seeded from sourced CSV files in data/seed/ and edited by staff in the console. The
assistant finds an entry by the words a farmer used: each entry lists them (``keywords``), and the
entry whose words cover most of the message wins.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.records.schema import Explanation, FaqEntry
from bot.text import plain
from bot.timeutil import utcnow

PLACEHOLDER = re.compile(r"\[POR LLENAR:[^\]]*\]")
Entry = TypeVar("Entry", Explanation, FaqEntry)


def keywords_of(entry: Explanation | FaqEntry) -> list[str]:
    return [plain(word) for word in (entry.keywords or "").split(",") if plain(word)]


def _score(text: str, entry: Explanation | FaqEntry) -> int:
    """How much of the message the entry's words cover: the letters of every keyword found as
    whole words (a longer, more specific phrase counts more)."""
    return sum(len(word) for word in keywords_of(entry) if re.search(rf"\b{re.escape(word)}\b", text))


def best_match(text: str, entries: Iterable[Entry]) -> Entry | None:
    said = plain(text)
    scored = [(score, entry) for entry in entries if (score := _score(said, entry)) > 0]
    return max(scored, key=lambda pair: (pair[0], -pair[1].id))[1] if scored else None


# --- explanations -------------------------------------------------------------------------------


def explanations(session: Session) -> list[Explanation]:
    return list(session.execute(select(Explanation).order_by(Explanation.kind, Explanation.title)).scalars())


def explanation_by_code(session: Session, code: str) -> Explanation | None:
    return session.execute(select(Explanation).where(Explanation.code == code)).scalar_one_or_none()


def explanation_for(session: Session, text: str) -> Explanation | None:
    """The explanation the message asks about, by its words; None when it names none."""
    return best_match(text, explanations(session))


def update_explanation(
    session: Session,
    code: str,
    *,
    title: str,
    keywords: str,
    explanation: str,
    what_to_do: str,
    source: str,
    updated_by: str,
) -> Explanation | None:
    """Writes an explanation's texts as given (the caller checked them), with who and when;
    None when no explanation has that code. Its kind and confidence stay as they are."""
    entry = explanation_by_code(session, code)
    if entry is None:
        return None
    entry.title, entry.keywords, entry.source = title, keywords, source
    entry.explanation, entry.what_to_do = explanation, what_to_do
    entry.updated_by, entry.updated_at = updated_by, utcnow()
    session.flush()
    return entry


# --- the FAQ ------------------------------------------------------------------------------------


def faq_entries(session: Session) -> list[FaqEntry]:
    return list(session.execute(select(FaqEntry).order_by(FaqEntry.code)).scalars())


def faq_for(session: Session, text: str) -> FaqEntry | None:
    return best_match(text, faq_entries(session))


def faq_by_code(session: Session, code: str) -> FaqEntry | None:
    return session.execute(select(FaqEntry).where(FaqEntry.code == code)).scalar_one_or_none()


def update_faq(
    session: Session, code: str, *, question: str, keywords: str, answer: str, source: str, updated_by: str
) -> FaqEntry | None:
    """Writes an FAQ entry as given (the caller checked it), with who and when; None when no
    entry has that code."""
    entry = faq_by_code(session, code)
    if entry is None:
        return None
    entry.question, entry.keywords, entry.answer, entry.source = question, keywords, answer, source
    entry.updated_by, entry.updated_at = updated_by, utcnow()
    session.flush()
    return entry


def add_faq(
    session: Session, *, code: str, question: str, keywords: str, answer: str, source: str, updated_by: str
) -> FaqEntry:
    """A new FAQ entry (the caller checked that its code is free)."""
    entry = FaqEntry(
        code=code,
        question=question,
        keywords=keywords,
        answer=answer,
        source=source,
        updated_by=updated_by,
        updated_at=utcnow(),
    )
    session.add(entry)
    session.flush()
    return entry


def placeholders(text: str) -> list[str]:
    """The facts staff still have to fill in an answer ("[POR LLENAR: …]")."""
    return PLACEHOLDER.findall(text or "")


# --- seeding from the sourced CSV files ---------------------------------------------------------


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def load_knowledge(session: Session, folder: Path) -> None:
    """Seeds explanations.csv and faq.csv; an entry staff already have is left as they wrote it."""
    known = set(session.execute(select(Explanation.code)).scalars())
    for row in _rows(folder / "explanations.csv"):
        if row["code"] not in known:
            session.add(Explanation(**row))
    known = set(session.execute(select(FaqEntry.code)).scalars())
    for row in _rows(folder / "faq.csv"):
        if row["code"] not in known:
            session.add(FaqEntry(**row))
    session.flush()
