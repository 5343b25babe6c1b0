"""Machine translation adapters (the ``Translator`` port)."""

from bot.adapters.translation.libretranslate import LibreTranslate

__all__ = ["LibreTranslate"]
