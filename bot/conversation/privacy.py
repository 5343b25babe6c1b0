"""What a user may ask of their data (/status, /forget), and how long the desk keeps it (retention)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from bot.core.i18n import Translations
from bot.core.messages import Reply
from bot.core.overview import missed_text
from bot.core.ports import (
    AttachmentStore,
    Inbox,
    MissedMessages,
    Outbox,
    ProfileStore,
    TicketStore,
    Transcript,
)
from bot.core.settings import Settings
from bot.core.tickets import Author

log = logging.getLogger(__name__)
FORGET_LOOKBACK = 1000  # messages of the current conversation whose words /forget looks for


@dataclass(frozen=True)
class RetentionPolicy:
    """How long what users wrote is kept, per kind of store."""

    messages: timedelta = timedelta(days=30)  # inbox, outbox, Rasa's tracker
    closed_tickets: timedelta = timedelta(days=180)  # transcripts, notes, the link to the user's address
    audit: timedelta = timedelta(days=730)
    missed: timedelta = timedelta(days=30)  # messages the assistant could not answer (no user in them)


def retention_policy(settings: Settings) -> RetentionPolicy:
    """The periods a city chose (``SPORTELLO_RETENTION_*``)."""
    return RetentionPolicy(
        messages=timedelta(days=settings.retention_messages_days),
        closed_tickets=timedelta(days=settings.retention_tickets_days),
        audit=timedelta(days=settings.retention_audit_days),
        missed=timedelta(days=settings.retention_missed_days),
    )


@dataclass(frozen=True)
class Expired:
    """What one retention run removed, per store (counts only: nothing of the rows is logged)."""

    inbox: int
    outbox: int
    tracker_events: int
    tickets: int
    audit: int
    missed: int = 0
    attachments: int = 0  # files no row names any more (those of expired tickets go with the tickets)


async def _nothing_to_flush() -> None:
    return None


@dataclass
class Privacy:
    tickets: TicketStore
    transcript: Transcript
    inbox: Inbox
    outbox: Outbox
    profiles: ProfileStore
    translations: Translations
    # after erasing: make the deleted rows unrecoverable (SQLite: checkpoint and truncate the WAL)
    flush_erased: Callable[[], Awaitable[None]] = field(default=_nothing_to_flush)
    missed: MissedMessages | None = None  # kept without a user: expired by retention, not by /forget
    attachments: AttachmentStore | None = None  # files users sent for their tickets

    async def status(self, user_key: str, language: str) -> list[Reply]:
        """The user's open requests, in their language (what /status answers)."""
        tr = self.translations(language)
        tickets = await self.tickets.open_for_user(user_key)
        if not tickets:
            return [Reply(tr._("You have no open requests."))]
        states = {
            "new": tr._("waiting for a person"),
            "assigned": tr._("a person is working on it"),
            "waiting_for_user": tr._("waiting for your answer"),
        }
        lines = [tr._("Your open requests:")]
        for ticket in tickets:
            state = states.get(ticket.status.value, ticket.status.value)
            lines.append(tr._("{ticket}: {state}", ticket=ticket.id, state=state))
        return [Reply("\n".join(lines))]

    async def forget(self, user_key: str) -> None:
        """Erase the user's conversation everywhere it lives; tickets keep topic, city and outcome."""
        if self.attachments is not None:  # the files too, not only their rows (and those of any ticket)
            await self.attachments.erase_user(user_key)
        erased = await self.tickets.erase_user(user_key)
        await self._erase_missed(user_key)  # before the tracker: it says what the user wrote
        await self.transcript.erase(user_key)
        await self.inbox.erase_user(user_key)
        await self.outbox.erase_user(user_key)
        await self.profiles.erase(user_key)
        await self.flush_erased()
        log.info("erased a user's data (%d tickets kept for statistics only)", erased)

    async def _erase_missed(self, user_key: str) -> None:
        """Missed messages carry no user: the words of the user's current conversation find theirs
        (older ones go with retention, after ``SPORTELLO_RETENTION_MISSED_DAYS``)."""
        if self.missed is None:
            return
        said = await self.transcript.conversation(user_key, FORGET_LOOKBACK)
        texts = sorted({missed_text(e.text) for e in said if e.author is Author.USER} - {""})
        if texts:
            await self.missed.erase_texts(texts)

    async def expire(self, policy: RetentionPolicy) -> Expired:
        """Retention, one run: everything older than the policy allows, in every store."""
        expired = Expired(
            inbox=await self.inbox.purge_answered(policy.messages),
            outbox=await self.outbox.purge_sent(policy.messages),
            tracker_events=await self.transcript.purge_older_than(policy.messages),
            tickets=await self.tickets.purge_closed(policy.closed_tickets),
            audit=await self.tickets.purge_audit(policy.audit),
            missed=await self.missed.purge_older_than(policy.missed) if self.missed else 0,
            attachments=await self.attachments.sweep() if self.attachments else 0,
        )
        await self.flush_erased()
        log.info("retention: %s", expired)
        return expired

    async def keep_expiring(self, policy: RetentionPolicy, every: timedelta) -> None:
        """Forever, from start-up: a run now and one every ``every`` (no cron job to forget)."""
        while True:
            try:
                await self.expire(policy)
            except Exception:  # one failed run (a database hiccup) must not end retention: logged, retried
                log.exception("retention run failed; trying again at the next period")
            await asyncio.sleep(every.total_seconds())


async def purge_closed_tickets(tickets: TicketStore, older_than: timedelta) -> int:
    """Retention of closed tickets alone (``python -m bot tickets purge``; the gateway runs ``expire``)."""
    return await tickets.purge_closed(older_than)
