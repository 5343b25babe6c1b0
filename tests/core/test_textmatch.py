import pytest

from bot.core.textmatch import mentions, words


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("I live in Roma", "Roma"),
        ("je suis à Gênes", "genes"),
        ("я в Римі", "Рим"),
        ("وصلت فميلانو", "ميلانو"),
        ("আমি রোমে থাকি", "রোম"),
        ("我在罗马", "罗马"),
        ("можно по-русски", "по-русски"),
    ],
)
def test_names_found(text: str, name: str) -> None:
    assert mentions(text, name)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("un film romantico", "Roma"),
        ("як отримати пермессо", "Рим"),
        ("дискримінація на роботі", "Рим"),
        ("", "Roma"),
    ],
)
def test_names_not_found_inside_other_words(text: str, name: str) -> None:
    assert not mentions(text, name)


def test_words_keep_bengali_vowel_signs() -> None:
    assert words("আমি রোমে, থাকি!") == ["আমি", "রোমে", "থাকি"]
