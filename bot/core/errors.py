"""Domain errors, one hierarchy. The web layer turns them into HTTP answers at its edge
(``bot.web.errors`` and the dashboard's middleware); nothing below it knows about HTTP."""

from __future__ import annotations

from pathlib import Path


class SportelloError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigurationError(SportelloError):
    """Settings or data files are unusable; raised at start-up so the process stops with a clear message."""


class YamlFileError(SportelloError):
    """A YAML file that cannot be read, with the line staff should look at."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


class InvalidMessage(SportelloError):
    """A client sent something we cannot accept (bad JSON, missing field, text too long)."""


class EngineError(SportelloError):
    """Rasa could not answer a message.

    ``language`` is the language the turn was going to be answered in (set by the conversation), so
    that the "try again" message needs no second look at the user's profile."""

    language: str | None = None


class EngineUnavailable(EngineError):
    """Rasa or the action server did not answer: an outage, the message waits and is tried again."""


class EngineFailed(EngineError):
    """Rasa is up but this message made it fail (HTTP 500): the message's problem, not an outage, so
    it is retried a few times and then parked."""


class TooManyRequests(SportelloError):
    """A client writes faster than a person does: answer 429 and say when to try again."""

    def __init__(self, retry_after: float, language: str) -> None:
        super().__init__(f"retry after {retry_after:.0f} s")
        self.retry_after, self.language = retry_after, language


class UnknownTopic(SportelloError):
    """A topic id that ``topics.yml`` does not define."""


class UnknownCity(SportelloError):
    """A city id that ``cities.yml`` does not define."""


# delivery ------------------------------------------------------------------------------------------
class DeliveryError(SportelloError):
    """A send that did not go through."""


class RetryLater(DeliveryError):
    """The platform asked us to wait (rate limit, temporary failure)."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds, self.reason = seconds, reason


class WindowClosed(DeliveryError):
    """WhatsApp: outside the 24-hour window only an approved template may be sent."""


class Undeliverable(DeliveryError):
    """A permanent failure (blocked by the user, invalid request): recorded, never retried."""


# tickets and mediators -----------------------------------------------------------------------------
class TicketNotFound(SportelloError):
    """No such ticket, or not one this mediator may see (the same answer, on purpose)."""


class NotAllowed(SportelloError):
    """Not possible in the ticket's state (closed already, nobody holds it, another city's mediator)."""


class CityNotAllowed(NotAllowed):
    """A city this mediator does not work for (statistics, review): a 403 at the edge."""


class RoleRequired(NotAllowed):
    """Only a coordinator may do this (a 403 at the edge, where other ``NotAllowed`` are 409)."""


class InvalidInput(SportelloError):
    """A mediator's form is incomplete or too long (the message says what to fix)."""


class MediatorError(SportelloError):
    """A mediator could not be created or changed (the message says why)."""


# attachments ---------------------------------------------------------------------------------------
class AttachmentRefused(SportelloError):
    """A file the desk does not keep: ``reason`` is "too_big" or "type" (the user is told which)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AttachmentNotFound(TicketNotFound):
    """No such file of this ticket: answered like another city's ticket (the access rule)."""


class TranslationUnavailable(SportelloError):
    """The city's machine translation did not answer (or answered nonsense): the page shows the
    original only and says so; nothing is lost."""
