"""Domain errors. The gateway turns them into HTTP answers at its edge (see ``bot.gateway.errors``)."""

from __future__ import annotations


class SportelloError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigurationError(SportelloError):
    """Settings or data files are unusable; raised at start-up so the process stops with a clear message."""


class InvalidMessage(SportelloError):
    """A client sent something we cannot accept (bad JSON, missing field, text too long)."""


class EngineUnavailable(SportelloError):
    """Rasa or the action server did not answer: the user should try again later.

    ``language`` is the language the turn was going to be answered in (set by the conversation), so
    that the "try again" message needs no second look at the user's profile."""

    language: str | None = None


class UnknownTopic(SportelloError):
    """A topic id that ``topics.yml`` does not define."""


class UnknownCity(SportelloError):
    """A city id that ``cities.yml`` does not define."""
