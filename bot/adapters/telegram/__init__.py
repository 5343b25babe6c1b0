"""Telegram (python-telegram-bot): updates in, messages with inline keyboards out."""

from bot.adapters.telegram.channel import TelegramChannel

__all__ = ["TelegramChannel"]
