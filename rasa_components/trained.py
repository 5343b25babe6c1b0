"""What our trained Rasa classifiers share: config defaults, the model storage and one pickle file.

Rasa calls ``create`` before training and ``load`` when a model starts; a subclass only says what its
state is (``restore``) and saves it after training (``persist``).
"""

from __future__ import annotations

import logging
import pickle
from typing import Any, ClassVar

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from typing_extensions import Self

logger = logging.getLogger(__name__)


class PickledClassifier(IntentClassifier, GraphComponent):
    """A classifier on our featurizers' output whose trained state is one pickle in the model."""

    FILE: ClassVar[str] = "state.pkl"

    @classmethod
    def required_components(cls) -> list[type]:
        return [Featurizer]

    @staticmethod
    def required_packages() -> list[str]:
        return ["sklearn"]

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        state: dict[str, Any] | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.restore(state or {})

    def restore(self, state: dict[str, Any]) -> None:
        """Take the trained state (empty before training or when the model has none)."""
        raise NotImplementedError

    def persist(self, state: dict[str, Any]) -> Resource:
        with (
            self._model_storage.write_to(self._resource) as directory,
            open(directory / self.FILE, "wb") as out,
        ):
            pickle.dump(state, out)
        return self._resource

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> Self:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> Self:
        try:
            with model_storage.read_from(resource) as directory, open(directory / cls.FILE, "rb") as handle:
                saved = pickle.load(handle)  # our own model file, written by persist()
        except (ValueError, FileNotFoundError):
            logger.warning("%s: no trained model found; it will predict nothing", cls.__name__)
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, saved)
