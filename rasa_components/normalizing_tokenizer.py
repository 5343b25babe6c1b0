"""Whitespace tokens whose lemma is a spelling-normalised form, for the char n-gram features.

Why: people type on phones without accents and, in Arabic and Urdu, with whichever form of a letter the
keyboard offers (أ إ آ ا, ة ه, ى ي, ك ک, ي ی), with or without short vowels and the stretching tatweel.
Rasa's CountVectorsFeaturizer reads each token's lemma, so one spelling per word means one set of
n-grams per word. The e5 embedding still reads the text as written.
"""

from __future__ import annotations

import unicodedata

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

# Arabic-script letters written in several ways: one form each (Arabic and Urdu keyboards differ)
LETTERS = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ة": "ه",
        "ۃ": "ه",
        "ہ": "ه",
        "ھ": "ه",
        "ى": "ي",
        "ی": "ي",
        "ې": "ي",
        "ک": "ك",
        "ؤ": "و",
        "ئ": "ي",
        "ـ": None,  # tatweel
    }
)


def normalise(word: str) -> str:
    """Lower case, no accents or Arabic short vowels, one form per Arabic-script letter."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch) or _keeps_meaning(ch))
    return unicodedata.normalize("NFC", kept).translate(LETTERS)


def _keeps_meaning(mark: str) -> bool:
    """Combining marks that are letters' vowels in Indic scripts (Bengali) must stay: dropping them
    changes the word. Latin accents and Arabic harakat can go."""
    name = unicodedata.name(mark, "")
    return name.startswith("BENGALI") or name.startswith("DEVANAGARI")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class NormalizingTokenizer(WhitespaceTokenizer):
    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        tokens = super().tokenize(message, attribute)
        for token in tokens:
            token.lemma = normalise(token.text)
        return tokens
