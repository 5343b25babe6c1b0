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

import functools
import re
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.linear_model import LogisticRegression

from rasa_components.trained import PickledClassifier

NONE = "none"
ENTITY = "urgency"
PHRASES = Path(__file__).with_name("urgent_phrases.yml")


def normalized(text: str) -> str:
    """Lower case, Latin accents dropped, one space between words, letters people write alike made one:
    how people type on a phone."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_SAME_LETTER))
    kept = "".join(c for c in decomposed if not _latin_mark(c))
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", kept)).strip()


# written alike by people typing fast: a phone's curly apostrophe, Arabic alef with or without hamza,
# alef maqsura for ya
_SAME_LETTER = str.maketrans(
    {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي"}
)


def _latin_mark(mark: str) -> bool:
    """The combining accents of U+0300-U+036F (Latin, also Cyrillic's breve: applied alike to phrase and
    message); Arabic or Bengali vowel signs are parts of letters and stay."""
    return 0x0300 <= ord(mark) <= 0x036F


@functools.lru_cache(maxsize=4)
def load_phrases(path: Path = PHRASES) -> tuple[tuple[str, str], ...]:
    """(kind, fragment) of the curated danger phrases, every language together, normalized."""
    if not path.exists():
        return ()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return tuple(
        (str(kind), normalized(str(fragment)))
        for kind, languages in data.items()
        for fragments in (languages or {}).values()
        for fragment in fragments or []
        if normalized(str(fragment))
    )


def phrase_kind(text: str, phrases: tuple[tuple[str, str], ...]) -> str:
    """The kind of the first curated fragment the text contains, or ''."""
    said = normalized(text)
    return next((kind for kind, fragment in phrases if fragment in said), "")


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
            # a curated fragment (urgent_phrases.yml) also fires it when the score reaches this; 1.0: off
            "phrase_threshold": 1.0,
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
        phrase = phrase_kind(str(message.get(TEXT)), load_phrases())
        by_phrase = bool(phrase) and combined_score >= float(self.config["phrase_threshold"])
        fired = combined_score >= float(self.config["threshold"]) or by_phrase
        combined = {k: by_kind.get(k, 0.0) + intents.get(k, 0.0) for k in self.kinds}
        kind = phrase if by_phrase and phrase in self.kinds else max(combined, key=lambda k: combined[k])
        scores = {
            "urgent": fired,
            "kind": kind,
            "classifier": round(classifier, 4),
            "intent": round(intent, 4),
            "combined": round(combined_score, 4),
            "phrase": phrase,
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
