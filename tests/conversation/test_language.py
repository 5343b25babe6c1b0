"""Language detection and its stickiness, with the real detector."""

from __future__ import annotations

import pytest

from bot.conversation.language import (
    LangidDetector,
    LanguagePolicy,
    LinguaDetector,
    letter_count,
    script_language,
)

# ``policy``: the gateway's policy, a fixture of tests/conftest.py


@pytest.mark.parametrize("detector", [LinguaDetector(), LangidDetector()])
def test_both_candidate_detectors_ship_their_models(detector: object) -> None:
    guess = detector.guess("where can I find a doctor for my children")  # type: ignore[attr-defined]
    assert guess is not None and guess.language == "en"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("come posso rinnovare il permesso di soggiorno", "it"),
        ("how can I renew my residence permit", "en"),
        ("je voudrais renouveler mon titre de séjour", "fr"),
        ("كيف يمكنني تجديد تصريح الإقامة", "ar"),
        ("necesito renovar mi permiso de residencia", "es"),
        ("як мені продовжити дозвіл на проживання", "uk"),
        ("как мне продлить вид на жительство", "ru"),
        ("vreau sa reinnoiesc permisul de sedere", "ro"),
        ("dua te rinovoj lejen e qendrimit", "sq"),
        ("আমি কিভাবে পারমেসো নবায়ন করব", "bn"),
        ("میں اپنا پرمیسو کیسے تجدید کروں", "ur"),
        ("我的居留过期了怎么办", "zh"),
    ],
)
def test_first_message_sets_the_language(policy: LanguagePolicy, text: str, language: str) -> None:
    assert policy.decide(text, current=None) == language


@pytest.mark.parametrize("text", ["ok", "grazie", "3", "👍", "si", "merci!", "да", "ok grazie mille"])
def test_short_or_ambiguous_messages_never_switch(policy: LanguagePolicy, text: str) -> None:
    for current in ("ar", "zh", "uk", "en"):
        assert policy.decide(text, current=current) == current


def test_italian_office_words_do_not_switch_to_italian(policy: LanguagePolicy) -> None:
    assert policy.decide("how do I renew my permesso di soggiorno at the questura", "en") == "en"
    assert policy.decide("codice fiscale", "ar") == "ar"


def test_a_clear_message_in_another_language_switches(policy: LanguagePolicy) -> None:
    assert policy.decide("I need help with my residence permit please", current="it") == "en"


def test_pinned_language_stays(policy: LanguagePolicy) -> None:
    assert policy.decide("I need help with my residence permit please", "ar", pinned=True) == "ar"


def test_prior_is_used_when_the_first_message_says_too_little(policy: LanguagePolicy) -> None:
    assert policy.decide("ok", current=None, prior="uk") == "uk"
    assert policy.decide("ok", current=None) == policy.default


def test_scripts_that_settle_the_language() -> None:
    assert script_language("abc 你好") == "zh"
    assert script_language("আমি") == "bn"
    assert script_language("کیسے کروں") == "ur"
    assert script_language("hello") is None


def test_cjk_counts_as_more_letters() -> None:
    assert letter_count("你好") == 6
    assert letter_count("ok 3 👍") == 2
