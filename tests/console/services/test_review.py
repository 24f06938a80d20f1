"""The review service: tags as staff type them, and a correction with a synonym exported as
Rasa's JSON entity markup."""

from __future__ import annotations

from sqlalchemy import select

from bot.console.schema import ConsoleMessage
from bot.console.services.review import clean_tags
from bot.db import session_scope


def test_synonym_correction_exports_as_json_entity(console_env, copied_tracker):
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    from bot.console.services.review import corrections_yaml, save_correction

    with session_scope(console_env.url) as session:
        event_id = session.execute(
            select(ConsoleMessage.event_id).where(ConsoleMessage.message_id == "SMadr0001")
        ).scalar_one()
        save_correction(
            session,
            event_id=event_id,
            intent="ask_trainings",
            entities_text="training_topic: calidad = calidad e inocuidad",
            username="t",
        )
        body = corrections_yaml(session)
    assert '[calidad]{"entity": "training_topic", "value": "calidad e inocuidad"}' in body
    messages = RasaYAMLReader().reads(body).training_examples
    assert any(e["value"] == "calidad e inocuidad" for m in messages for e in m.get("entities") or [])


def test_clean_tags():
    assert clean_tags(" Pagos, pagos; Calibre  grande,, ") == "pagos,calibre grande"
