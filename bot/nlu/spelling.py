"""A pipeline step that reads an unknown, misspelled word as the training word it was meant to be.

Farmers on basic phones drop, double, swap or mistype letters ("pgao", "capaciitacion",
"aguacte"). An unknown word has no word feature at all and shares few character n-grams with the
word it was meant to be, so the classifier loses exactly the word that carried the question.

At training time this step learns the words of the training data (lower case, accents folded)
and how often each occurs. When a message is parsed, a token of 5 or more letters that is not a
known word is compared with the known words one edit away (a letter dropped, added, replaced or
two neighbours swapped); the most frequent of them replaces the token's text and lemma, which
every later featurizer reads. The message text, and so every entity's text and position, stays
as the farmer wrote it. Words of 4 letters or fewer are left alone: one edit away from a short
word there are too many other words.

Place it right after the tokenizer. Measured in bench/results/ (see the README's figures).
"""
from __future__ import annotations

import json
import logging
import re
from collections import Counter
from typing import Any, Dict, Iterable, List, Optional, Text, Type

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


class Vocabulary:
    """Known words with their counts, and the correction of an unknown one."""

    def __init__(self, counts: Dict[str, int], min_length: int = 5):
        self.counts = counts
        self.min_length = min_length
        self.alphabet = "".join(sorted({ch for word in counts for ch in word if ch.isalpha()}))
        self._cache: Dict[str, Optional[str]] = {}

    @classmethod
    def learn(cls, texts: Iterable[str], min_length: int = 5) -> "Vocabulary":
        counts: Counter = Counter()
        for text in texts:
            counts.update(WORD.findall(normal_form(text)))
        return cls(dict(counts), min_length)

    def correction(self, word: str) -> Optional[str]:
        """The known word meant by an unknown ``word``, or None (known, short or no candidate)."""
        form = normal_form(word)
        if len(form) < self.min_length or not form.isalpha() or form in self.counts:
            return None
        if form not in self._cache:
            candidates = [c for c in one_edit_away(form, self.alphabet) if c in self.counts]
            # most frequent; equal counts: alphabetical, so the choice never depends on set order
            self._cache[form] = min(candidates, key=lambda c: (-self.counts[c], c), default=None)
            if len(self._cache) > 50_000:
                self._cache.clear()
        return self._cache[form]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class TypoCorrector(GraphComponent):
    """Replaces an unknown token of 5+ letters by the most frequent training word one edit away."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"min_length": 5}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 vocabulary: Optional[Vocabulary] = None) -> None:
        self.config = config
        self._model_storage = model_storage
        self._resource = resource
        self.vocabulary = vocabulary

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "TypoCorrector":
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "TypoCorrector":
        vocabulary = None
        try:
            with model_storage.read_from(resource) as directory:
                counts = json.loads((directory / VOCABULARY_FILE).read_text(encoding="utf-8"))
            vocabulary = Vocabulary(counts, config["min_length"])
        except (ValueError, FileNotFoundError):
            logger.warning("TypoCorrector: no vocabulary in the model; words are left as written")
        return cls(config, model_storage, resource, vocabulary)

    def train(self, training_data: TrainingData) -> Resource:
        words = (
            " ".join(token.text for token in message.get(TOKENS_NAMES[TEXT]) or [])
            for message in training_data.training_examples
        )
        self.vocabulary = Vocabulary.learn(words, self.config["min_length"])
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(
                json.dumps(self.vocabulary.counts, ensure_ascii=False, sort_keys=True),
                encoding="utf-8",
            )
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data  # every training word is known: nothing to correct

    def process(self, messages: List[Message]) -> List[Message]:
        if self.vocabulary is None:
            return messages
        for message in messages:
            for token in message.get(TOKENS_NAMES[TEXT]) or []:
                corrected = self.vocabulary.correction(token.text)
                if corrected is not None:
                    token.text = token.lemma = corrected
        return messages
