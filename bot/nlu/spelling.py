"""A pipeline step that reads an unknown, misspelled word as the training word it was meant to be.

Farmers on basic phones drop, double, swap or mistype letters ("pgao", "capaciitacion",
"aguacte"). An unknown word has no word feature at all and shares few character n-grams with the
word it was meant to be, so the classifier loses exactly the word that carried the question.

At training time this step learns the words of the training data (lower case, accents folded)
and how often each occurs. When a message is parsed, a token of 4 or more letters that is neither
a training word nor a real Spanish word (one of the ~115,000 word forms in spaCy's es_core_news_sm,
so "pasan" is never read as "pagan") is compared with the known words one edit away (a letter dropped, added, replaced or
two neighbours swapped); the most frequent of them replaces the token's text, and its lemma (the
commonest lemma the tokenizer gave that word in training; with spaCy's tokenizer the featurizers
read lemmas) replaces the token's lemma. The message text, and so every entity's text and position, stays
as the farmer wrote it. A word of 4 letters is only read as a training word of 5 with a letter
put back ("frua" is "fruta", "omar" is "tomar"): one replacement or swap away from a short word
there are too many other words. Shorter words are left alone.

Place it right after the tokenizer. Measured in bench/results/ (see the README's figures).
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from functools import lru_cache
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.text import fold_accents

logger = logging.getLogger(__name__)

VOCABULARY_FILE = "vocabulary.json"
WORD = re.compile(r"[^\W\d_]+")  # letters only


def normal_form(word: str) -> str:
    return fold_accents(word).lower()


def one_edit_away(word: str, alphabet: str) -> set[str]:
    """Every string one drop, swap of neighbours, replacement or insertion away from ``word``."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    drops = {left + right[1:] for left, right in splits if right}
    swaps = {left + right[1] + right[0] + right[2:] for left, right in splits if len(right) > 1}
    replaces = {left + letter + right[1:] for left, right in splits if right for letter in alphabet}
    inserts = {left + letter + right for left, right in splits for letter in alphabet}
    return (drops | swaps | replaces | inserts) - {word}


@lru_cache(maxsize=2)
def spanish_words(model: str) -> frozenset[str]:
    """Every word in a spaCy model's string store, folded: about 115,000 Spanish word forms for
    es_core_news_sm ("pasan", "quince", "cuentas"), and not the typos farmers make ("pgaan")."""
    import spacy

    strings = spacy.load(
        model,
        exclude=["tok2vec", "morphologizer", "parser", "attribute_ruler", "lemmatizer", "ner", "senter"],
    ).vocab.strings
    return frozenset(normal_form(s) for s in strings if WORD.fullmatch(s))


class Vocabulary:
    """Known words with their counts, and the correction of an unknown one."""

    def __init__(
        self,
        counts: dict[str, int],
        min_length: int = 5,
        lemmas: dict[str, str] | None = None,
        spanish: AbstractSet[str] = frozenset(),
    ):
        self.counts = counts
        self.min_length = min_length
        self.spanish = spanish  # real Spanish words (folded): never typos
        self.lemmas = lemmas or {}  # a known word's lemma, when the tokenizer gives lemmas
        self.alphabet = "".join(sorted({ch for word in counts for ch in word if ch.isalpha()}))
        self._cache: dict[str, str | None] = {}

    @classmethod
    def learn(cls, texts: Iterable[str], min_length: int = 5) -> Vocabulary:
        counts: Counter = Counter()
        for text in texts:
            counts.update(WORD.findall(normal_form(text)))
        return cls(dict(counts), min_length)

    def correction(self, word: str) -> str | None:
        """The known word meant by an unknown ``word``, or None (known, short or no candidate)."""
        form = normal_form(word)
        short = len(form) == self.min_length - 1  # a word of min_length with a letter dropped?
        if (
            len(form) < self.min_length - 1
            or not form.isalpha()
            or form in self.counts
            or form in self.spanish
        ):
            return None
        cache = self._cache  # one dict for the check and the read, even if it is replaced
        if form in cache:
            return cache[form]
        candidates = [c for c in one_edit_away(form, self.alphabet) if c in self.counts]
        if short:  # only the letter put back: a longer training word ("frua" -> "fruta")
            candidates = [c for c in candidates if len(c) == len(form) + 1]
        # most frequent; equal counts: alphabetical, so the choice never depends on set order
        best = min(candidates, key=lambda c: (-self.counts[c], c), default=None)
        if len(self._cache) > 50_000:
            self._cache = {}  # a fresh dict: a turn thread reading the old one is not disturbed
        self._cache[form] = best
        return best

    def lemma(self, word: str) -> str:
        return self.lemmas.get(word, word)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class TypoCorrector(GraphComponent):
    """Replaces an unknown token of 5+ letters by the most frequent training word one edit away."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # a spaCy model whose words are real Spanish, never corrected (null: correct any unknown)
        return {"min_length": 5, "spanish_words_from": "es_core_news_sm"}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: Vocabulary | None = None,
    ) -> None:
        self.config = config
        self._model_storage = model_storage
        self._resource = resource
        self.vocabulary = vocabulary

    @staticmethod
    def _spanish(config: dict[str, Any]) -> AbstractSet[str]:
        model = config.get("spanish_words_from")
        return spanish_words(model) if model else frozenset()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TypoCorrector:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TypoCorrector:
        vocabulary = None
        try:
            with model_storage.read_from(resource) as directory:
                saved = json.loads((directory / VOCABULARY_FILE).read_text(encoding="utf-8"))
            vocabulary = Vocabulary(
                saved["counts"], config["min_length"], saved["lemmas"], cls._spanish(config)
            )
        except (ValueError, KeyError, FileNotFoundError):
            logger.warning("TypoCorrector: no vocabulary in the model; words are left as written")
        return cls(config, model_storage, resource, vocabulary)

    def train(self, training_data: TrainingData) -> Resource:
        tokens = [
            token
            for message in training_data.training_examples
            for token in message.get(TOKENS_NAMES[TEXT]) or []
        ]
        counts = Vocabulary.learn(t.text for t in tokens).counts
        # With spaCy's tokenizer the featurizers read lemmas: keep each word's commonest lemma
        lemmas: dict[str, Counter] = {}
        for token in tokens:
            form = normal_form(token.text)
            if form in counts and token.lemma and token.lemma != token.text:
                lemmas.setdefault(form, Counter())[token.lemma] += 1
        self.vocabulary = Vocabulary(
            counts,
            self.config["min_length"],
            {form: c.most_common(1)[0][0] for form, c in lemmas.items()},
            self._spanish(self.config),
        )
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(
                json.dumps(
                    {"counts": self.vocabulary.counts, "lemmas": self.vocabulary.lemmas},
                    ensure_ascii=False,
                    sort_keys=True,
                ),
                encoding="utf-8",
            )
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data  # every training word is known: nothing to correct

    def process(self, messages: list[Message]) -> list[Message]:
        if self.vocabulary is None:
            return messages
        for message in messages:
            for token in message.get(TOKENS_NAMES[TEXT]) or []:
                corrected = self.vocabulary.correction(token.text)
                if corrected is not None:
                    token.text, token.lemma = corrected, self.vocabulary.lemma(corrected)
        return messages
