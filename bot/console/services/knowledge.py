"""Explanations and the FAQ, as staff read and edit them (bot/records/knowledge.py).

The assistant sends these texts as written here, so an edit is checked before anything is
written (required texts, keywords as a clean comma-separated list, "[POR LLENAR: …]" only whole
and only in FAQ answers) and what is allowed but worth knowing comes back as a warning (two
turns, three SMS parts or more, a keyword another entry has). Every change is audited; viewing
is not (no farmer's data here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from typing import TypeVar

from sqlalchemy.orm import Session

from bot.assistant.knowledge import SMS_ROOM
from bot.console.auth import StaffUser
from bot.console.queries import audit
from bot.messaging.formatting import shape_sms_text, sms_parts
from bot.records import knowledge
from bot.records.knowledge import PLACEHOLDER, keywords_of, placeholders
from bot.records.schema import Explanation, FaqEntry
from bot.records.vocabulary import EXPLANATION_KINDS
from bot.replies.catalog import OPTION_LABELS, numbered, render
from bot.text import fold_accents, plain

LONG_SMS_PARTS = 3  # a text this many SMS parts or more is warned about (replies aim at two)
MAX_TEXT = 1000  # an explanation, what to do or an answer
MAX_TITLE = 120  # explanations.title
MAX_LINE = 300  # a question
MAX_SOURCE = 500
NO_KEYWORDS = (
    "Escriba al menos una palabra clave: las palabras con que preguntan los productores, separadas por comas."
)
TWO_TURNS = (
    f"Con el título pasa de {SMS_ROOM} caracteres: el asistente manda primero la explicación y, si el "
    "productor lo pide, qué puede hacer (dos turnos)."
)
CODE = re.compile(r"^[a-z0-9_]{2,40}$")  # an FAQ entry's code, as the seeded ones: send_xml
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")  # what cannot start or end a keyword (¿ ? . ")
_LOOSE_PLACEHOLDER = re.compile(r"por\s*llenar")  # on plain() text

FIELD_LABELS = {
    "title": "título",
    "question": "pregunta",
    "keywords": "palabras clave",
    "explanation": "explicación",
    "what_to_do": "qué puede hacer",
    "answer": "respuesta",
    "source": "fuente",
}


class EntryRefused(ValueError):
    """An edit refused before anything was written; each problem in Spanish, for staff."""

    def __init__(self, problems: list[str]):
        super().__init__(" ".join(problems))
        self.problems = problems


# --- what a text costs by SMS -------------------------------------------------------------------


@dataclass(frozen=True)
class Sms:
    parts: int  # of the text shaped for SMS (GSM-7), as bot.messaging sends it

    @property
    def long(self) -> bool:
        return self.parts >= LONG_SMS_PARTS

    @property
    def label(self) -> str:
        return f"{self.parts} parte{'s' if self.parts != 1 else ''}"


def sms_of(text: str) -> Sms:
    return Sms(sms_parts(shape_sms_text(text)).parts)


def explanation_messages(title: str, explanation: str, what_to_do: str) -> list[str]:
    """What the assistant sends for an explanation (bot/assistant/knowledge.py): one message when
    it fits two SMS parts; otherwise the explanation with the option "Qué puedo hacer", and what
    to do when the farmer picks it (two turns)."""
    head = render("explanation", title=title, explanation=explanation)
    todo = render("explanation_todo", what_to_do=what_to_do)
    if len(head) + len(todo) + 1 <= SMS_ROOM:
        return [f"{head} {todo}"]
    return [f"{head}\n{numbered([OPTION_LABELS['what_to_do']])}", todo]


@dataclass(frozen=True)
class Segment:
    text: str
    missing: bool  # a "[POR LLENAR: …]" placeholder


def segments(text: str) -> list[Segment]:
    """The text cut at its placeholders, so the page can mark each one."""
    pieces = re.split(f"({PLACEHOLDER.pattern})", text or "")
    return [Segment(piece, PLACEHOLDER.fullmatch(piece) is not None) for piece in pieces if piece]


# --- the pages ----------------------------------------------------------------------------------


@dataclass
class ExplanationRow:
    entry: Explanation
    keywords: list[str]
    messages: list[Sms]  # one per turn the farmer gets

    @property
    def two_turns(self) -> bool:
        return len(self.messages) > 1


@dataclass
class KindGroup:
    kind: str
    label: str
    rows: list[ExplanationRow]


@dataclass
class ExplanationsPage:
    groups: list[KindGroup]  # in the order of EXPLANATION_KINDS, each by title
    room: int  # characters of one explanation message (bot/assistant/knowledge.py)


def _split(keywords: str) -> list[str]:
    return [word.strip() for word in (keywords or "").split(",") if word.strip()]


def explanations_page(session: Session) -> ExplanationsPage:
    by_kind: dict[str, list[ExplanationRow]] = {kind: [] for kind in EXPLANATION_KINDS}
    for entry in knowledge.explanations(session):
        texts = explanation_messages(entry.title, entry.explanation, entry.what_to_do)
        row = ExplanationRow(entry, _split(entry.keywords), [sms_of(text) for text in texts])
        by_kind.setdefault(entry.kind, []).append(row)
    groups = [
        KindGroup(kind, EXPLANATION_KINDS.get(kind, kind), rows) for kind, rows in by_kind.items() if rows
    ]
    return ExplanationsPage(groups, SMS_ROOM)


@dataclass
class FaqRow:
    entry: FaqEntry
    keywords: list[str]
    answer: list[Segment]
    missing: list[str]  # the placeholders still in the answer
    sms: Sms


@dataclass
class FaqPage:
    rows: list[FaqRow]  # by code
    unfilled: list[FaqRow]  # those whose answer still has a placeholder


def faq_page(session: Session) -> FaqPage:
    rows = [
        FaqRow(e, _split(e.keywords), segments(e.answer), placeholders(e.answer), sms_of(e.answer))
        for e in knowledge.faq_entries(session)
    ]
    return FaqPage(rows, [row for row in rows if row.missing])


# --- checking an edit ---------------------------------------------------------------------------


def one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def clean_text(text: str | None) -> str:
    """Single spaces, line breaks kept (at most one blank line), no spaces at the ends."""
    lines = [" ".join(line.split()) for line in (text or "").replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def clean_keywords(text: str | None) -> str:
    """Keywords as the assistant reads them: separated by commas (or semicolons, or lines), lower
    case, single spaces, no signs at either end ("¿cómo?" is "cómo"), no repeats:
    'Golpe, GOLPES;  golpe' -> 'golpe,golpes'. A spelling without accents stays if staff wrote it
    (the seeds list both), though the assistant matches either way."""
    words: list[str] = []
    for raw in re.split(r"[,;\n]", text or ""):
        word = _EDGES.sub("", one_line(raw).lower())
        if word and word not in words:
            words.append(word)
    return ",".join(words)


def clean_code(text: str | None) -> str:
    """'Horario sábado' -> 'horario_sabado'."""
    return re.sub(r"[\s-]+", "_", fold_accents(one_line(text).lower()))


def _required(problems: list[str], value: str, label: str, limit: int) -> None:
    if not value:
        problems.append(f"Escriba {label}.")
    elif len(value) > limit:
        problems.append(f"Sobran caracteres en {label}: tiene {len(value)} y el máximo es {limit}.")


def _has_loose_placeholder(text: str) -> bool:
    """A "POR LLENAR" that is not a whole "[POR LLENAR: …]" (lower case, no brackets, no colon):
    the assistant would not see it and would send it."""
    return len(_LOOSE_PLACEHOLDER.findall(plain(text))) > len(placeholders(text))


@dataclass(frozen=True)
class ExplanationDraft:
    title: str
    keywords: str
    explanation: str
    what_to_do: str
    source: str

    def problems(self) -> list[str]:
        problems: list[str] = []
        _required(problems, self.title, "el título", MAX_TITLE)
        if not self.keywords:
            problems.append(NO_KEYWORDS)
        _required(problems, self.explanation, "la explicación", MAX_TEXT)
        _required(problems, self.what_to_do, "qué puede hacer el productor", MAX_TEXT)
        _required(problems, self.source, "la fuente (de dónde sale la explicación)", MAX_SOURCE)
        if any(_LOOSE_PLACEHOLDER.search(plain(t)) for t in (self.title, self.explanation, self.what_to_do)):
            problems.append(
                "Una explicación no puede llevar [POR LLENAR]: el asistente la manda tal cual. "
                "Escriba el dato o quite la frase."
            )
        return problems


@dataclass(frozen=True)
class FaqDraft:
    question: str
    keywords: str
    answer: str
    source: str

    def problems(self) -> list[str]:
        problems: list[str] = []
        _required(problems, self.question, "la pregunta", MAX_LINE)
        if not self.keywords:
            problems.append(NO_KEYWORDS)
        _required(problems, self.answer, "la respuesta", MAX_TEXT)
        _required(problems, self.source, "la fuente (de dónde sale la respuesta)", MAX_SOURCE)
        if _has_loose_placeholder(self.answer):
            problems.append(
                "Un dato por llenar va así, con corchetes y dos puntos: [POR LLENAR: qué falta]. "
                "Escrito de otra forma, el asistente lo mandaría al productor."
            )
        return problems


def _shared_keywords(keywords: str, others: list[Explanation] | list[FaqEntry], code: str) -> list[str]:
    """'«cuenta» también es palabra clave de bank_details' for each keyword another entry has."""
    mine = {plain(word) for word in keywords.split(",")}
    notes = []
    for other in others:
        if other.code == code:
            continue
        shared = [word for word in keywords_of(other) if word in mine]
        if shared:
            words = ", ".join(f"«{word}»" for word in shared)
            notes.append(
                f"{words} también {'es palabra clave' if len(shared) == 1 else 'son palabras clave'} de «{other.code}»."
            )
    if notes:
        notes.append("Con palabras compartidas, el asistente elige la entrada que cubre más del mensaje.")
    return notes


Draft = TypeVar("Draft", ExplanationDraft, FaqDraft)
CLEANERS = {
    "keywords": clean_keywords,
    "explanation": clean_text,
    "what_to_do": clean_text,
    "answer": clean_text,
}


def cleaned(draft: Draft) -> Draft:
    """The draft as it would be saved: longer texts tidied, keywords normalised, the rest on one line."""
    return replace(
        draft, **{f.name: CLEANERS.get(f.name, one_line)(getattr(draft, f.name)) for f in fields(draft)}
    )


def _changed(before: object, draft: ExplanationDraft | FaqDraft) -> list[str]:
    return [FIELD_LABELS[f.name] for f in fields(draft) if getattr(before, f.name) != getattr(draft, f.name)]


# --- saving -------------------------------------------------------------------------------------


@dataclass
class Saved:
    code: str
    message: str  # for staff, what happened
    warnings: list[str] = field(default_factory=list)


def _sms_warning(what: str, sms: Sms) -> list[str]:
    if not sms.long:
        return []
    return [
        f"Por SMS, {what} ocupa {sms.parts} partes (se cobra como {sms.parts} mensajes; el asistente "
        "procura no pasar de 2). Conviene acortar el texto."
    ]


def edit_explanation(session: Session, actor: StaffUser, code: str, draft: ExplanationDraft) -> Saved | None:
    """Saves an explanation's texts and audits the change; None when no explanation has that
    code; raises EntryRefused before writing anything."""
    entry = knowledge.explanation_by_code(session, code)
    if entry is None:
        return None
    draft = cleaned(draft)
    if problems := draft.problems():
        raise EntryRefused(problems)
    changed = _changed(entry, draft)
    if not changed:
        return Saved(code, f"«{entry.title}»: no cambió nada.")
    knowledge.update_explanation(session, code, **vars(draft), updated_by=actor.username)
    audit.record(session, actor, "edit_explanation", detail=f"{code}: {', '.join(changed)}")
    texts = explanation_messages(draft.title, draft.explanation, draft.what_to_do)
    parts = [sms_of(text) for text in texts]
    warnings = _shared_keywords(draft.keywords, knowledge.explanations(session), code)
    if len(texts) > 1:
        warnings.insert(0, TWO_TURNS)
    warnings += _sms_warning("la explicación", parts[0])
    if len(parts) > 1:
        warnings += _sms_warning("qué puede hacer", parts[1])
    turns = " + ".join(p.label for p in parts)
    return Saved(code, f"Explicación guardada: «{draft.title}». Por SMS: {turns}.", warnings)


def _faq_saved(session: Session, code: str, draft: FaqDraft, verb: str) -> Saved:
    sms = sms_of(draft.answer)
    warnings = _shared_keywords(draft.keywords, knowledge.faq_entries(session), code)
    if placeholders(draft.answer):
        warnings.insert(
            0,
            "La respuesta todavía tiene datos por llenar: mientras los tenga, el asistente pasa "
            "esta pregunta a una persona.",
        )
        answered = ""
    else:
        answered = " El asistente ya contesta con ella."
    warnings += _sms_warning("la respuesta", sms)
    return Saved(code, f"Pregunta {verb}: «{draft.question}». Por SMS: {sms.label}.{answered}", warnings)


def edit_faq(session: Session, actor: StaffUser, code: str, draft: FaqDraft) -> Saved | None:
    """Saves an FAQ entry and audits the change; None when no entry has that code; raises
    EntryRefused before writing anything."""
    entry = knowledge.faq_by_code(session, code)
    if entry is None:
        return None
    draft = cleaned(draft)
    if problems := draft.problems():
        raise EntryRefused(problems)
    changed = _changed(entry, draft)
    if not changed:
        return Saved(code, f"«{entry.question}»: no cambió nada.")
    filled = bool(placeholders(entry.answer)) and not placeholders(draft.answer)
    knowledge.update_faq(session, code, **vars(draft), updated_by=actor.username)
    detail = f"{code}: {', '.join(changed)}" + (" (ya sin datos por llenar)" if filled else "")
    audit.record(session, actor, "edit_faq", detail=detail)
    return _faq_saved(session, code, draft, "guardada")


def add_faq(session: Session, actor: StaffUser, code: str, draft: FaqDraft) -> Saved:
    """A new FAQ entry, audited; raises EntryRefused before writing anything."""
    code = clean_code(code)
    draft = cleaned(draft)
    problems = draft.problems()
    if not CODE.match(code):
        problems.insert(
            0, "Escriba una clave corta de 2 a 40 letras sin acentos, números o guion bajo (horario_sabado)."
        )
    elif knowledge.faq_by_code(session, code) is not None:
        problems.insert(0, f"Ya hay una pregunta con la clave «{code}». Elija otra o edite esa.")
    if problems:
        raise EntryRefused(problems)
    knowledge.add_faq(session, code=code, **vars(draft), updated_by=actor.username)
    audit.record(session, actor, "add_faq", detail=code)
    return _faq_saved(session, code, draft, "agregada")
