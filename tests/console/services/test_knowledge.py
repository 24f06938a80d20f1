"""The explanations and FAQ service: keywords as staff type them, placeholders found and marked,
what the farmer gets by SMS predicted as the assistant sends it, edits refused before anything is
written and audited when saved."""

from __future__ import annotations

import csv

import pytest
from sqlalchemy import delete, func, select

from bot.assistant import knowledge as assistant_knowledge
from bot.console.auth import StaffUser
from bot.console.schema import ConsoleAudit, ConsoleUser
from bot.console.services import knowledge
from bot.console.services.knowledge import (
    EntryRefused,
    ExplanationDraft,
    FaqDraft,
    Segment,
    clean_code,
    clean_keywords,
    clean_text,
    segments,
    sms_of,
)
from bot.db import session_scope
from bot.records.demo_data import SEED_DIR
from bot.records.knowledge import explanations, faq_by_code, load_knowledge
from bot.records.schema import Explanation, FaqEntry
from bot.replies.catalog import render


@pytest.fixture
def officer(console_env) -> StaffUser:
    with session_scope(console_env.url) as session:
        return StaffUser.of(
            session.execute(select(ConsoleUser).where(ConsoleUser.username == "officer")).scalar_one()
        )


@pytest.fixture
def seeded(console_env):
    """The seeded explanations and FAQ again after the test, without its audit entries."""
    yield console_env.url
    with session_scope(console_env.url) as session:
        session.execute(delete(FaqEntry))
        session.execute(delete(Explanation))
        session.execute(delete(ConsoleAudit).where(ConsoleAudit.action.in_(["edit_faq", "add_faq"])))
        session.flush()
        load_knowledge(session, SEED_DIR)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Golpe, GOLPES;  golpe", "golpe,golpes"),
        ("¿cómo mando?, como mando, xml.", "cómo mando,como mando,xml"),
        ("  daño   mecánico\nmagulladura ,, ", "daño mecánico,magulladura"),
        (" , ; ¿? ", ""),
    ],
)
def test_keywords_are_normalised(typed, stored):
    assert clean_keywords(typed) == stored


def test_texts_and_codes_are_tidied():
    assert clean_text("  Uno   dos \r\n\r\n\r\n\r\ntres  ") == "Uno dos\n\ntres"
    assert clean_code(" Horario  sábado-tarde ") == "horario_sabado_tarde"


def test_placeholders_are_cut_out_to_be_marked():
    assert segments("Llame al [POR LLENAR: teléfono]. Correo: [POR LLENAR: correo].") == [
        Segment("Llame al ", False),
        Segment("[POR LLENAR: teléfono]", True),
        Segment(". Correo: ", False),
        Segment("[POR LLENAR: correo]", True),
        Segment(".", False),
    ]
    assert segments("Sin datos por llenar.") == [Segment("Sin datos por llenar.", False)]


def test_sms_parts_are_counted_on_the_text_as_sms_sends_it():
    assert sms_of("Teléfono: 443 000 0000.").parts == 1  # accents folded: GSM-7, not UCS-2
    assert sms_of("á" * 160).parts == 1
    assert sms_of("a" * 161).parts == 2 and not sms_of("a" * 161).long
    assert sms_of("a" * 307).parts == 3 and sms_of("a" * 307).long


def test_the_page_predicts_what_the_assistant_sends_for_every_explanation(console_env):
    with session_scope(console_env.url) as session:
        entries = explanations(session)
        page = knowledge.explanations_page(session)
    assert [g.kind for g in page.groups] == ["rejection", "hold", "status", "term"]
    rows = {row.entry.code: row for group in page.groups for row in group.rows}
    assert len(rows) == len(entries) == 18
    for entry in entries:
        first = assistant_knowledge._explain(entry)  # what the farmer's phone gets
        sent = first.texts()
        if first.options:  # the second turn, when the farmer picks "Qué puedo hacer"
            sent.append(render("explanation_todo", what_to_do=entry.what_to_do))
        assert knowledge.explanation_messages(entry.title, entry.explanation, entry.what_to_do) == sent
        assert rows[entry.code].messages == [sms_of(text) for text in sent]
    assert rows["mechanical_damage"].two_turns and not rows["amount_mismatch"].two_turns


def test_the_seeded_keywords_are_already_normal():
    """Saving an entry without touching its keywords changes nothing."""
    for name in ("explanations", "faq"):
        with (SEED_DIR / f"{name}.csv").open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                assert clean_keywords(row["keywords"]) == row["keywords"], (name, row["code"])


def test_the_faq_page_lists_the_answers_still_to_fill(console_env):
    with session_scope(console_env.url) as session:
        page = knowledge.faq_page(session)
    assert [row.entry.code for row in page.unfilled] == [
        "bank_details",
        "hours",
        "program_contact",
        "register",
        "send_xml",
        "technician",
    ]
    contact = next(row for row in page.rows if row.entry.code == "program_contact")
    assert contact.missing == ["[POR LLENAR: teléfono del programa]", "[POR LLENAR: correo del programa]"]


def test_a_refused_edit_writes_nothing(seeded, officer):
    draft = FaqDraft(
        question="¿Cómo mando el XML?", keywords="xml", answer="Llame al [POR LLENAR tel].", source="x"
    )
    with session_scope(seeded) as session:
        before = faq_by_code(session, "send_xml").answer
        with pytest.raises(EntryRefused) as refused:
            knowledge.edit_faq(session, officer, "send_xml", draft)
        assert len(refused.value.problems) == 1
        assert knowledge.edit_faq(session, officer, "no_such_entry", draft) is None
    with session_scope(seeded) as session:
        assert faq_by_code(session, "send_xml").answer == before
        assert (
            session.execute(
                select(func.count(ConsoleAudit.id)).where(ConsoleAudit.action == "edit_faq")
            ).scalar()
            == 0
        )


def test_explanation_problems_are_all_told_at_once():
    draft = ExplanationDraft(title="", keywords="", explanation="x" * 1001, what_to_do="", source="")
    problems = knowledge.cleaned(draft).problems()
    assert problems == [
        "Escriba el título.",
        "Escriba al menos una palabra clave: las palabras con que preguntan los productores, separadas por comas.",
        "Sobran caracteres en la explicación: tiene 1001 y el máximo es 1000.",
        "Escriba qué puede hacer el productor.",
        "Escriba la fuente (de dónde sale la explicación).",
    ]


def test_a_saved_answer_with_a_placeholder_is_warned_and_audited(seeded, officer):
    draft = FaqDraft(
        question="¿Cuál es el teléfono del programa?",
        keywords="telefono, numero del programa, contacto",
        answer="Teléfono del programa: 443 000 0000. Correo: [POR LLENAR: correo del programa].",
        source="Programa Pequeño Productor",
    )
    with session_scope(seeded) as session:
        saved = knowledge.edit_faq(session, officer, "program_contact", draft)
        assert saved is not None and "El asistente ya contesta" not in saved.message
        assert saved.warnings[0].startswith("La respuesta todavía tiene datos por llenar")
        assert "«contacto» también" not in " ".join(saved.warnings)
        audit = session.execute(select(ConsoleAudit).where(ConsoleAudit.action == "edit_faq")).scalar_one()
        assert (audit.action, audit.detail) == ("edit_faq", "program_contact: palabras clave, respuesta")


def test_a_keyword_another_entry_has_is_warned(seeded, officer):
    draft = FaqDraft(
        question="¿Abren el sábado?",
        keywords="horario, sabado",
        answer="Sí, en la mañana.",
        source="Coordinación",
    )
    with session_scope(seeded) as session:
        saved = knowledge.add_faq(session, officer, "horario_sabado", draft)
    assert saved.warnings[0] == "«horario» también es palabra clave de «hours»."
