"""Corrections as Rasa NLU training data: the entity lines staff write and Rasa's markup."""

from __future__ import annotations

import pytest

from bot.console.services.nlu_training_data import CorrectionError, annotate, parse_entities


def test_parse_entities_and_annotate():
    text = "kiero [saber] del kalibre 32 de aguacate"
    entities = parse_entities(text, "calibre: 32\nproduct: Aguacate = aguacate hass", {"calibre", "product"})
    assert [e["entity"] for e in entities] == ["calibre", "product"]
    assert annotate(text, entities) == (
        'kiero (saber) del kalibre [32](calibre) de [aguacate]{"entity": "product", "value": "aguacate hass"}'
    )
    with pytest.raises(CorrectionError):
        parse_entities(text, "grade: extra", {"calibre", "product", "grade"})
    with pytest.raises(CorrectionError):
        parse_entities(text, "nope: 32", {"calibre"})
    with pytest.raises(CorrectionError):
        parse_entities(text, "calibre: 32\ncalibre: 3", {"calibre"})
