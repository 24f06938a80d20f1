"""Reviewing a conversation (tags, note, the not-reviewed filter) and correcting an intent and its
entities, then exporting the corrections as Rasa NLU training data."""

from __future__ import annotations

from sqlalchemy import select

from bot.console.schema import ConsoleCorrection, ConsoleMessage, ConsoleReview
from bot.db import session_scope
from tests.console.conftest import ADRIANA, FAMILY, UNKNOWN, listed, token_of


def test_review_tags_note_and_not_reviewed_filter(console_env, client_for):
    client = client_for("officer")
    assert ADRIANA in listed(client, "?sin_revisar=1")
    token = token_of(client, f"/conversaciones/{ADRIANA}")
    response = client.post(
        f"/conversaciones/{ADRIANA}/revision",
        data={
            "csrf_token": token,
            "reviewed": "y",
            "tags": "Capacitaciones, calidad,  calidad",
            "note": "Pregunta bien contestada.",
        },
    )
    assert response.status_code == 302
    with session_scope(console_env.url) as session:
        review = session.execute(select(ConsoleReview).where(ConsoleReview.sender_id == ADRIANA)).scalar_one()
        assert review.reviewed and review.tags == "capacitaciones,calidad"
        assert review.reviewed_by == "officer" and review.note == "Pregunta bien contestada."
    assert ADRIANA not in listed(client, "?sin_revisar=1")
    html = client.get(f"/conversaciones/{ADRIANA}").get_data(as_text=True)
    assert "Revisada por officer" in html


def test_new_message_after_review_makes_it_unreviewed_again(console_env, client_for):
    from tests.console.conftest import _bot, _event_time, _user, write_events

    client = client_for("officer")
    token = token_of(client, f"/conversaciones/{UNKNOWN}")
    client.post(f"/conversaciones/{UNKNOWN}/revision", data={"csrf_token": token, "reviewed": "y"})
    assert UNKNOWN not in listed(client, "?sin_revisar=1")
    write_events(
        console_env.tracker_url,
        {
            UNKNOWN: [
                _user("¿me pueden ayudar?", "help", 0.77, _event_time(0.5), "whatsapp", "SMunk0002"),
                _bot("Claro. Escriba 1 para pagos.", _event_time(0.5, 1)),
            ]
        },
    )
    assert UNKNOWN in listed(client, "?sin_revisar=1")


def test_correct_intent_and_entities_then_export(console_env, client_for):
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    client = client_for("officer")
    with session_scope(console_env.url) as session:
        event_id = session.execute(
            select(ConsoleMessage.event_id).where(ConsoleMessage.message_id == "SMfam0001")
        ).scalar_one()
    token = token_of(client, f"/conversaciones/{FAMILY}")
    prefix = f"c{event_id}"
    bad = client.post(
        f"/conversaciones/{FAMILY}/correccion/{event_id}",
        data={
            "csrf_token": token,
            f"{prefix}-event_id": event_id,
            f"{prefix}-intent": "ask_avocado_size",
            f"{prefix}-entities": "calibre: 99",
        },
    )
    assert bad.status_code == 422 and "no aparece en el mensaje" in bad.get_data(as_text=True)
    unknown_intent = client.post(
        f"/conversaciones/{FAMILY}/correccion/{event_id}",
        data={"csrf_token": token, f"{prefix}-event_id": event_id, f"{prefix}-intent": "invented_intent"},
    )
    assert unknown_intent.status_code == 302
    response = client.post(
        f"/conversaciones/{FAMILY}/correccion/{event_id}",
        data={
            "csrf_token": token,
            f"{prefix}-event_id": event_id,
            f"{prefix}-intent": "ask_avocado_size",
            f"{prefix}-entities": "calibre: 32\nproduct: aguacate",
        },
    )
    assert response.status_code == 302
    with session_scope(console_env.url) as session:
        correction = session.execute(
            select(ConsoleCorrection).where(ConsoleCorrection.event_id == event_id)
        ).scalar_one()
        assert correction.original_intent == "ask_avocado_size" and correction.corrected_by == "officer"
    exported = client.get("/correcciones/nlu_correcciones.yml")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["Content-Disposition"]
    body = exported.get_data(as_text=True)
    assert body.startswith('version: "3.1"\nnlu:\n- intent: ask_avocado_size\n  examples: |\n')
    assert "    - kiero saber del kalibre [32](calibre) de [aguacate](product)" in body
    data = RasaYAMLReader().reads(body)
    examples = [m for m in data.training_examples if m.get("intent") == "ask_avocado_size"]
    assert examples and {e["entity"] for e in examples[0].get("entities")} == {"calibre", "product"}
    # the transcript shows the correction; Rasa's own events are untouched
    html = client.get(f"/conversaciones/{FAMILY}").get_data(as_text=True)
    assert "corregida a ask_avocado_size" in html
