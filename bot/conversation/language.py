"""Which language a message is written in, and when that should change the conversation's language.

Short or ambiguous messages ("ok", "grazie", "3", an emoji) never switch the language; an explicit
choice pins it until the user chooses again. The detector was chosen by measurement
(scripts/measure_language_detection.py; numbers in README.md).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Protocol

from bot.core.languages import DEFAULT_LANGUAGE, LANGUAGES

# Letters a message needs before it may switch the language (CJK characters count as three).
MIN_LETTERS = 8
# Confidence needed to switch away from the current language / to pick a first language.
SWITCH_CONFIDENCE = 0.90
FIRST_CONFIDENCE = 0.50
URDU_ONLY_LETTERS = frozenset("ٹڈڑںےۓ")


@dataclass(frozen=True)
class Guess:
    language: str
    confidence: float


class Detector(Protocol):
    def guess(self, text: str) -> Guess | None: ...


class LinguaDetector:
    """lingua-language-detector restricted to the desk's twelve languages (its models ship in the wheel)."""

    def __init__(self) -> None:
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

        wanted = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in LANGUAGES]
        self._detector = (
            LanguageDetectorBuilder.from_languages(*wanted).with_preloaded_language_models().build()
        )

    def guess(self, text: str) -> Guess | None:
        values = self._detector.compute_language_confidence_values(text)
        if not values:
            return None
        best = values[0]
        return Guess(best.language.iso_code_639_1.name.lower(), float(best.value))


class LangidDetector:
    """py3langid (langid.py's model) restricted to the desk's twelve languages."""

    def __init__(self) -> None:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        self._identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        self._identifier.set_languages(list(LANGUAGES))

    def guess(self, text: str) -> Guess | None:
        language, probability = self._identifier.classify(text)
        return Guess(str(language), float(probability))


def letter_count(text: str) -> int:
    count = 0
    for ch in text:
        if ch.isalpha():
            count += 3 if unicodedata.name(ch, "").startswith("CJK") else 1
    return count


def script_language(text: str) -> str | None:
    """Scripts that only one of the twelve languages uses settle the question without a model."""
    for ch in text:
        name = unicodedata.name(ch, "")
        if name.startswith("CJK UNIFIED"):
            return "zh"
        if name.startswith("BENGALI"):
            return "bn"
        if ch in URDU_ONLY_LETTERS:
            return "ur"
    return None


class LanguagePolicy:
    """Decides the reply language of each message from the detector and the conversation so far."""

    def __init__(
        self,
        detector: Detector,
        italian_terms: tuple[str, ...] = (),
        default: str = DEFAULT_LANGUAGE,
        switch_confidence: float = SWITCH_CONFIDENCE,
    ) -> None:
        self.detector = detector
        self.default = default
        self.switch_confidence = switch_confidence
        # longest first, so "permesso di soggiorno" goes before "permesso"
        self.italian_terms = tuple(sorted((t.casefold() for t in italian_terms), key=len, reverse=True))

    def guess(self, text: str) -> Guess | None:
        by_script = script_language(text)
        if by_script is not None:
            return Guess(by_script, 1.0)
        rest = self.without_italian_terms(text)
        return self.detector.guess(rest) if letter_count(rest) >= MIN_LETTERS else None

    def without_italian_terms(self, text: str) -> str:
        """People in Italy write "permesso di soggiorno" in any language: those words say nothing."""
        folded = text.casefold()
        for term in self.italian_terms:
            folded = folded.replace(term, " ")
        return folded

    def decide(self, text: str, current: str | None, pinned: bool = False, prior: str | None = None) -> str:
        """The language to answer ``text`` in.

        ``current``: the conversation's language so far; ``pinned``: the user chose it explicitly;
        ``prior``: a hint such as Telegram's ``language_code``, used when the text says too little.
        """
        if pinned and current:
            return current
        guess = self.guess(text)
        if current is None:
            if guess and guess.confidence >= FIRST_CONFIDENCE:
                return guess.language
            return prior if prior in LANGUAGES else self.default
        if guess and guess.language != current and guess.confidence >= self.switch_confidence:
            return guess.language
        return current


def make_policy(italian_terms: tuple[str, ...], default: str = DEFAULT_LANGUAGE) -> LanguagePolicy:
    """The measured choice: py3langid (see README, "Detecting the language")."""
    return LanguagePolicy(LangidDetector(), italian_terms, default)
