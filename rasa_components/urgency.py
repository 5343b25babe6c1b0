"""Urgency check: is this person in danger, whatever the topic classifier makes of the message?

Why a component of its own: the topic classifier spreads its confidence over 50 intents, so "the owner
put a new lock and my papers are inside" can come out as ``rental_contract`` or below the fallback
threshold. A small classifier trained only on urgent against everything else, on the e5 embedding, looks
at meaning rather than keywords; its score is combined with the intent model's urgent scores (the
combination and thresholds chosen by ``scripts/score_devset.py``; numbers in the README).

Output, for every message: ``urgency`` (all the scores, for measurement) and, when it fires, an entity
``urgency`` whose value is the kind (eviction, emergency_shelter, emergency_health, danger). The action
server reads the entity; Rasa keeps entities in the tracker.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.linear_model import LogisticRegression

from rasa_components.trained import PickledClassifier

NONE = "none"
ENTITY = "urgency"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class UrgencyDetector(PickledClassifier):
    """Logistic regression on the e5 sentence embedding: ``none`` or one of the urgent kinds."""

    FILE = "urgency_detector.pkl"

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "kinds": ["eviction", "emergency_shelter", "emergency_health", "danger"],
            "C": 4.0,
            # fires when intent_weight * (the intent model's urgent intents together) + (1 - intent_weight)
            # * (the dedicated classifier's urgent probability) reaches threshold
            "intent_weight": 0.7,
            "threshold": 0.5,
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.classifier: LogisticRegression | None = state.get("classifier")

    @property
    def kinds(self) -> list[str]:
        return [str(kind) for kind in self.config["kinds"]]

    @staticmethod
    def _dense(messages: list[Message]) -> np.ndarray:
        rows = []
        for message in messages:
            features = message.get_dense_features(TEXT)[1]
            rows.append(np.asarray(features.features).reshape(-1) if features else None)
        dims = next((r.shape[0] for r in rows if r is not None), 0)
        matrix = np.vstack([r if r is not None else np.zeros(dims) for r in rows])
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return np.asarray(matrix / np.where(norms == 0, 1, norms))

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            return self._resource
        labels = [e.get(INTENT) if e.get(INTENT) in self.kinds else NONE for e in examples]
        # balanced: a few hundred urgent examples against thousands of others; a missed emergency
        # costs more than a person offered to someone who did not need one
        self.classifier = LogisticRegression(
            C=float(self.config["C"]), class_weight="balanced", max_iter=2000
        )
        self.classifier.fit(self._dense(examples), np.asarray(labels))
        return self.persist({"classifier": self.classifier})

    def _intent_scores(self, message: Message) -> dict[str, float]:
        ranking = message.get("intent_ranking") or []
        return {str(r["name"]): float(r["confidence"]) for r in ranking if r.get("name") in self.kinds}

    def process(self, messages: list[Message]) -> list[Message]:
        todo = [m for m in messages if m.get(TEXT)]
        if self.classifier is None or not todo:
            return messages
        probabilities = self.classifier.predict_proba(self._dense(todo))
        labels = [str(label) for label in self.classifier.classes_]
        for message, row in zip(todo, probabilities, strict=True):
            self._decide(message, dict(zip(labels, (float(p) for p in row), strict=True)))
        return messages

    def _decide(self, message: Message, by_kind: dict[str, float]) -> None:
        intents = self._intent_scores(message)
        classifier = 1.0 - by_kind.get(NONE, 0.0)
        intent = sum(intents.values())
        weight = float(self.config["intent_weight"])
        combined_score = weight * intent + (1 - weight) * classifier
        fired = combined_score >= float(self.config["threshold"])
        combined = {k: by_kind.get(k, 0.0) + intents.get(k, 0.0) for k in self.kinds}
        kind = max(combined, key=lambda k: combined[k])
        scores = {
            "urgent": fired,
            "kind": kind,
            "classifier": round(classifier, 4),
            "intent": round(intent, 4),
            "combined": round(combined_score, 4),
        }
        message.set(ENTITY, scores, add_to_output=True)
        if fired:
            entity = {
                "entity": ENTITY,
                "value": kind,
                "start": 0,
                "end": len(message.get(TEXT)),
                "confidence_entity": round(combined_score, 4),
                "extractor": type(self).__name__,
            }
            message.set(ENTITIES, [*message.get(ENTITIES, []), entity], add_to_output=True)
