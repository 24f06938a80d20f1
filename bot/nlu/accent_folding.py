"""A CountVectorsFeaturizer that folds accents, so "Michoacán" and "michoacan", "cuándo" and
"cuando" give the same word and character n-gram features."""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.nlu.constants import TEXT

from bot.text import fold_accents


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class AccentFoldingCountVectorsFeaturizer(CountVectorsFeaturizer):
    def _process_tokens(self, tokens: list[str], attribute: str = TEXT) -> list[str]:
        processed = super()._process_tokens(tokens, attribute)
        if attribute != TEXT:
            return processed
        return [fold_accents(token) for token in processed]
