"""Explicaciones and Preguntas frecuentes: viewers read both and cannot edit; officers and
administrators edit (validated, audited) and add questions; the assistant answers with what they
wrote, and a how-to whose placeholder is filled goes to the farmer instead of to a person."""

from __future__ import annotations

import html as html_lib

import pytest
from sqlalchemy import delete, select

from bot.assistant.skills import respond
from bot.assistant.turn import Turn
from bot.console.schema import ConsoleAudit
from bot.db import session_scope
from bot.records.demo_data import SEED_DIR
from bot.records.knowledge import explanation_by_code, faq_by_code, load_knowledge
from bot.records.schema import Explanation, FaqEntry, HumanRequest
from tests.console.conftest import token_of

ASKER = "+525500007777"  # a number that asks the assistant how-tos in these tests
XML_ANSWER = (
    "El XML es el archivo de su factura electrónica; el PDF no basta. Pídalo a quien le hace sus "
    "facturas y entréguelo así: [POR LLENAR: cómo recibe el programa el XML (correo, portal o técnico)]."
)
FILLED = "Mándelo por correo a facturas@ejemplo.mx con su folio en el asunto."


@pytest.fixture(autouse=True)
def seeded_knowledge(console_env):
    """Each test starts from the seeded explanations and FAQ, without audit entries of edits
    nor requests from ASKER."""
    yield
    with session_scope(console_env.url) as session:
        session.execute(delete(FaqEntry))
        session.execute(delete(Explanation))
        session.execute(delete(HumanRequest).where(HumanRequest.phone == ASKER))
        session.execute(
            delete(ConsoleAudit).where(ConsoleAudit.action.in_(["edit_explanation", "edit_faq", "add_faq"]))
        )
        session.flush()
        load_knowledge(session, SEED_DIR)


def ask(intent: str, text: str):
    return respond(intent, Turn(conversation_id=ASKER, phone=ASKER, text=text))


def audited(url: str) -> list[tuple[str, str, str]]:
    with session_scope(url) as session:
        rows = session.execute(
            select(ConsoleAudit)
            .where(ConsoleAudit.action.in_(["edit_explanation", "edit_faq", "add_faq"]))
            .order_by(ConsoleAudit.id)
        ).scalars()
        return [(a.username, a.action, a.detail or "") for a in rows]


def faq_post(client, token: str, code: str, **changes: str):
    data = {
        "csrf_token": token,
        "code": code,
        "question": "¿Cómo mando el XML de mi factura?",
        "keywords": "xml, mandar el xml, enviar el xml",
        "answer": XML_ANSWER,
        "source": "Walmart de México, pagos y facturación",
    }
    data.update(changes)
    return client.post("/preguntas-frecuentes/editar", data=data)


def explanation_post(client, token: str, **changes: str):
    data = {
        "csrf_token": token,
        "code": "amount_mismatch",
        "title": "Monto que no coincide",
        "keywords": "monto,no coincide",
        "explanation": "El monto de la factura no es el de la entrega aceptada.",
        "what_to_do": "Pida a quien le factura que la corrija.",
        "source": "Programa Pequeño Productor",
    }
    data.update(changes)
    return client.post("/explicaciones/editar", data=data)


def text_of(response) -> str:
    return html_lib.unescape(response.get_data(as_text=True))


# --- reading ------------------------------------------------------------------------------------


def test_viewer_reads_both_pages_and_cannot_edit(console_env, client_for):
    client = client_for("viewer")
    explanations = text_of(client.get("/explicaciones"))
    assert "Daño mecánico (golpes)" in explanations and "Motivo de rechazo de fruta (7)" in explanations
    assert (
        "magulladura" in explanations
        and "INIFAP" in explanations
        and "fuente oficial o primaria" in explanations
    )
    assert "dos turnos" in explanations  # mechanical damage does not fit one message
    faq = text_of(client.get("/preguntas-frecuentes"))
    assert "Faltan datos: 6 respuestas tienen [POR LLENAR]" in faq
    assert '<mark class="missing">[POR LLENAR: teléfono del programa]</mark>' in faq
    assert "¿Cuánto tardan en pagar?" in faq
    for page in (explanations, faq):
        assert "<form" not in page.split("</header>")[1] and "Editar «" not in page
    assert "Agregar una pregunta" not in faq

    token = token_of(client, "/preguntas-frecuentes")
    assert faq_post(client, token, "send_xml", answer=FILLED).status_code == 403
    assert explanation_post(client, token).status_code == 403
    added = client.post(
        "/preguntas-frecuentes/nueva",
        data={
            "csrf_token": token,
            "code": "x",
            "question": "x",
            "keywords": "x",
            "answer": "x",
            "source": "x",
        },
    )
    assert added.status_code == 403
    with session_scope(console_env.url) as session:
        assert faq_by_code(session, "send_xml").answer == XML_ANSWER
        assert explanation_by_code(session, "amount_mismatch").updated_by is None
    assert audited(console_env.url) == []


def test_officer_sees_an_edit_form_per_entry(client_for):
    client = client_for("officer")
    explanations = text_of(client.get("/explicaciones"))
    assert explanations.count("Guardar explicación") == 18
    assert (
        'id="x-mechanical_damage-title"' in explanations and "Editar «Daño mecánico (golpes)»" in explanations
    )
    faq = text_of(client.get("/preguntas-frecuentes"))
    assert faq.count("Guardar respuesta") == 8 and "Agregar una pregunta" in faq


# --- a placeholder filled: the assistant answers --------------------------------------------------


@pytest.mark.parametrize("role", ["officer", "admin"])
def test_filling_a_placeholder_lets_the_assistant_answer(console_env, client_for, role):
    before = ask("ask_howto", "como mando el xml de mi factura")
    assert "POR LLENAR" not in " ".join(before.texts()) and "asesor" in " ".join(before.texts())

    client = client_for(role)
    token = token_of(client, "/preguntas-frecuentes")
    answer = f"El XML es el archivo de su factura electrónica; el PDF no basta. {FILLED}"
    response = faq_post(client, token, "send_xml", answer=answer)
    assert response.status_code == 302 and response.headers["Location"].endswith("#p-send_xml")
    page = text_of(client.get(response.headers["Location"]))
    assert "Pregunta guardada: «¿Cómo mando el XML de mi factura?». Por SMS: 1 parte." in page
    assert "El asistente ya contesta con ella." in page
    assert "Faltan datos: 5 respuestas tienen [POR LLENAR]" in page

    with session_scope(console_env.url) as session:
        entry = faq_by_code(session, "send_xml")
        assert entry.answer == answer and entry.updated_by == role
        assert entry.keywords == "xml,mandar el xml,enviar el xml"
    assert audited(console_env.url) == [
        (role, "edit_faq", "send_xml: palabras clave, respuesta, fuente (ya sin datos por llenar)")
    ]
    after = ask("ask_howto", "como mando el xml de mi factura")
    assert after.texts() == [answer]


def test_officer_edits_an_explanation_and_the_assistant_uses_it(console_env, client_for):
    client = client_for("officer")
    token = token_of(client, "/explicaciones")
    response = explanation_post(
        client,
        token,
        keywords="Monto, NO COINCIDE;  monto , ¿monto equivocado?, cantidad mal",
        what_to_do="Pida a quien le factura que la corrija y que la mande otra vez.",
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("#x-amount_mismatch")
    page = text_of(client.get(response.headers["Location"]))
    assert "Explicación guardada: «Monto que no coincide». Por SMS: 1 parte." in page
    assert "Editada por officer" in page
    with session_scope(console_env.url) as session:
        entry = explanation_by_code(session, "amount_mismatch")
        assert entry.keywords == "monto,no coincide,monto equivocado,cantidad mal"
        assert entry.updated_by == "officer" and entry.kind == "hold"
    assert audited(console_env.url) == [
        (
            "officer",
            "edit_explanation",
            "amount_mismatch: título, palabras clave, explicación, qué puede hacer, fuente",
        )
    ]
    reply = ask("ask_explanation", "que es cantidad mal")
    assert reply.texts() == [
        "Monto que no coincide: El monto de la factura no es el de la entrega aceptada. "
        "Qué puede hacer: Pida a quien le factura que la corrija y que la mande otra vez."
    ]


def test_an_explanation_past_two_sms_parts_is_saved_with_a_warning(console_env, client_for):
    client = client_for("officer")
    token = token_of(client, "/explicaciones")
    response = explanation_post(client, token, explanation="El monto de la factura no coincide. " * 8)
    assert response.status_code == 302
    page = text_of(client.get(response.headers["Location"]))
    assert "el asistente manda primero la explicación y, si el productor lo pide, qué puede hacer" in page
    assert "Por SMS, la explicación ocupa 3 partes" in page
    reply = ask("ask_explanation", "que es monto")
    assert len(reply.messages) == 1 and reply.options  # the assistant splits it as the page said


def test_nothing_changed_is_neither_written_nor_audited(console_env, client_for):
    client = client_for("officer")
    with session_scope(console_env.url) as session:
        entry = faq_by_code(session, "payment_time")
        data = {f: getattr(entry, f) for f in ("question", "keywords", "answer", "source")}
    token = token_of(client, "/preguntas-frecuentes")
    response = faq_post(client, token, "payment_time", **data)
    assert "no cambió nada" in text_of(client.get(response.headers["Location"]))
    assert audited(console_env.url) == []
    with session_scope(console_env.url) as session:
        assert faq_by_code(session, "payment_time").updated_by is None


def test_officer_adds_a_question(console_env, client_for):
    client = client_for("officer")
    token = token_of(client, "/preguntas-frecuentes")
    new = {
        "csrf_token": token,
        "code": "Horario sábado",
        "question": "¿Abren el sábado?",
        "keywords": "abren el sabado, sabado",
        "answer": "Los sábados atiende el técnico de su zona en la mañana.",
        "source": "Coordinación del programa",
    }
    response = client.post("/preguntas-frecuentes/nueva", data=new)
    assert response.status_code == 302 and response.headers["Location"].endswith("#p-horario_sabado")
    page = text_of(client.get(response.headers["Location"]))
    assert "Pregunta agregada: «¿Abren el sábado?»" in page and 'id="p-horario_sabado"' in page
    assert audited(console_env.url) == [("officer", "add_faq", "horario_sabado")]
    assert ask("ask_howto", "abren el sabado?").texts() == [new["answer"]]

    again = client.post("/preguntas-frecuentes/nueva", data={**new, "code": "horario_sabado"})
    assert again.status_code == 422
    assert "Ya hay una pregunta con la clave «horario_sabado»" in text_of(again)
    assert audited(console_env.url) == [("officer", "add_faq", "horario_sabado")]


# --- refused ------------------------------------------------------------------------------------


def test_an_incomplete_explanation_is_refused_and_shown_as_written(console_env, client_for):
    client = client_for("officer")
    token = token_of(client, "/explicaciones")
    response = explanation_post(
        client, token, title="  ", keywords=" , ;¿?", what_to_do="Llame al [POR LLENAR: teléfono]."
    )
    assert response.status_code == 422
    page = text_of(response)
    assert "No se guardó" in page and "Escriba el título." in page
    assert "Escriba al menos una palabra clave" in page
    assert "Una explicación no puede llevar [POR LLENAR]" in page
    assert 'id="x-amount_mismatch-what_to_do"' in page and "Llame al [POR LLENAR: teléfono]." in page
    assert "<details open>" in page  # the refused form is open with what was written
    with session_scope(console_env.url) as session:
        entry = explanation_by_code(session, "amount_mismatch")
        assert entry.updated_by is None and entry.title != "  "
    assert audited(console_env.url) == []


@pytest.mark.parametrize(
    "answer",
    ["Llame al [por llenar: teléfono].", "Llame al [POR LLENAR teléfono].", "Llame al POR LLENAR."],
)
def test_a_placeholder_not_written_as_one_is_refused(console_env, client_for, answer):
    """The assistant holds back only "[POR LLENAR: …]"; any other spelling would reach a farmer."""
    client = client_for("officer")
    response = faq_post(client, token_of(client, "/preguntas-frecuentes"), "send_xml", answer=answer)
    assert response.status_code == 422
    assert "Un dato por llenar va así, con corchetes y dos puntos" in text_of(response)
    with session_scope(console_env.url) as session:
        assert faq_by_code(session, "send_xml").answer == XML_ANSWER


def test_an_empty_answer_and_a_bad_code_are_refused(console_env, client_for):
    client = client_for("officer")
    token = token_of(client, "/preguntas-frecuentes")
    assert "Escriba la respuesta." in text_of(faq_post(client, token, "send_xml", answer=" \n "))
    refused = client.post(
        "/preguntas-frecuentes/nueva",
        data={"csrf_token": token, "code": "¿?", "question": "", "keywords": "", "answer": "", "source": ""},
    )
    assert refused.status_code == 422
    page = text_of(refused)
    for problem in (
        "Escriba una clave corta",
        "Escriba la pregunta.",
        "Escriba la respuesta.",
        "Escriba la fuente",
    ):
        assert problem in page
    assert faq_post(client, token, "no_such_entry").status_code == 404
    assert explanation_post(client, token, code="no_such_entry").status_code == 404
    assert audited(console_env.url) == []


@pytest.mark.parametrize(
    "path", ["/explicaciones/editar", "/preguntas-frecuentes/editar", "/preguntas-frecuentes/nueva"]
)
def test_every_change_needs_its_csrf_token(console_env, client_for, path):
    client = client_for("officer")
    data = {
        "code": "send_xml",
        "title": "x",
        "question": "x",
        "keywords": "x",
        "explanation": "x",
        "what_to_do": "x",
        "answer": FILLED,
        "source": "x",
    }
    assert client.post(path, data=data).status_code == 400
    assert client.post(path, data={**data, "csrf_token": "not-a-token"}).status_code == 400
    with session_scope(console_env.url) as session:
        assert faq_by_code(session, "send_xml").answer == XML_ANSWER
    assert audited(console_env.url) == []
