"""What the overview reads: ticket facts and the redaction of missed messages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.clock import utcnow
from bot.core.overview import REDACTED, TicketFacts, redact
from bot.core.tickets import Status


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call me at +39 333 123 4567 please", f"call me at {REDACTED} please"),
        ("my mail is amal.k+x@example.org ok", f"my mail is {REDACTED} ok"),
        ("permesso 2026 scaduto", "permesso 2026 scaduto"),  # a year stays: it is words, not a person
        ("codice 0123456789", f"codice {REDACTED}"),
        ("  ", ""),
    ],
)
def test_redact_removes_numbers_and_addresses_not_words(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_a_ticket_is_overdue_only_while_open_and_past_due() -> None:
    now = utcnow()
    late = TicketFacts("CE-1", "caserta", "ar", None, False, Status.NEW, None, now, now - timedelta(hours=1))
    assert late.overdue(now)
    assert not TicketFacts(**{**late.__dict__, "status": Status.CLOSED}).overdue(now)
    assert not TicketFacts(**{**late.__dict__, "due_at": now + timedelta(minutes=1)}).overdue(now)
