"""The typo corrector's vocabulary (bot/nlu/spelling.py); its effect on accuracy is measured by
bench/nlu_bench.py and checked through the running model by tests/nlu/test_robustness.py."""

from __future__ import annotations

import random

from bench.nlu_bench import typo
from bot.nlu.spelling import Vocabulary, one_edit_away

TRAINING = [
    "cuando me pagan la factura",
    "ya me pagaron la factura",
    "quiero inscribirme al taller",
    "hay capacitaciones en Uruapan",
    "que calibre es el aguacate",
    "aguacate de primera",
    "¿Cuándo es la capacitación?",
    "pagan",
    "pagar",
]


def vocabulary() -> Vocabulary:
    return Vocabulary.learn(TRAINING)


def test_every_kind_of_typo_the_benchmark_makes_is_one_edit_away():
    rng = random.Random(3)
    alphabet = "abcdefghijklmnopqrstuvwxyz"
    for word in ("factura", "inscribirme", "capacitaciones", "aguacate"):
        for _ in range(30):
            wrong = typo(word, rng)
            assert wrong == word or word in one_edit_away(wrong, alphabet)


def test_an_unknown_misspelled_word_is_read_as_the_training_word():
    words = vocabulary()
    assert words.correction("factrua") == "factura"  # swap
    assert words.correction("inscirbirme") == "inscribirme"
    assert words.correction("aguacatte") == "aguacate"  # letter doubled
    assert words.correction("talleer") == "taller"
    assert words.correction("capacitacoin") == "capacitacion"  # from "¿...capacitación?"


def test_accents_and_case_are_folded_before_looking_up():
    words = vocabulary()
    assert words.correction("CAPACITACIÓN") is None  # known once folded: nothing to correct
    assert words.correction("capasitacion") == "capacitacion"


def test_known_short_and_non_alphabetic_words_are_left_alone():
    words = vocabulary()
    assert words.correction("factura") is None
    assert words.correction("pgo") is None  # under 4 letters
    assert words.correction("pgao") is None  # 4 letters: only a dropped letter is put back
    assert words.correction("F-204518") is None
    assert words.correction("200gr") is None


def test_a_word_of_four_letters_gets_its_dropped_letter_back():
    words = Vocabulary.learn(["la fruta de primera", "quiero tomar el curso", "mucho calor"])
    assert words.correction("frua") == "fruta"
    assert words.correction("omar") == "tomar"
    assert words.correction("muho") == "mucho"
    assert words.correction("furta") == "fruta"  # 5 letters: any one edit, as before
    assert words.correction("frut") == "fruta"


def test_the_most_frequent_candidate_wins_and_ties_do_not_depend_on_order():
    words = Vocabulary({"pagan": 5, "pagar": 1, "sagan": 1})
    assert words.correction("pagam") == "pagan"
    tie = Vocabulary({"mango": 2, "manto": 2})
    assert tie.correction("manio") == "mango"  # alphabetical among equals
    assert Vocabulary({"manto": 2, "mango": 2}).correction("manio") == "mango"


def test_no_candidate_leaves_the_word_as_written():
    assert vocabulary().correction("xilofono") is None


def test_the_component_learns_persists_and_corrects_tokens_not_the_text(tmp_path):
    """Through Rasa's own tokenizer, model storage and messages: train, load, process."""
    from rasa.engine.graph import ExecutionContext
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.constants import TOKENS_NAMES
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.nlu.spelling import TypoCorrector

    storage = LocalModelStorage(tmp_path)
    resource = Resource("typo_corrector")
    context = ExecutionContext(graph_schema=None, node_name="typo_corrector")
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    data = TrainingData([Message(data={TEXT: text, "intent": "x"}) for text in TRAINING])
    tokenizer.process_training_data(data)
    config = TypoCorrector.get_default_config()
    TypoCorrector.create(config, storage, resource, context).train(data)

    loaded = TypoCorrector.load(config, storage, resource, context)
    message = Message(data={TEXT: "cuando me pgaan la factrua"})
    tokenizer.process([message])
    loaded.process([message])
    assert [t.text for t in message.get(TOKENS_NAMES[TEXT])] == ["cuando", "me", "pagan", "la", "factura"]
    assert message.get(TEXT) == "cuando me pgaan la factrua"  # entities keep what was written
