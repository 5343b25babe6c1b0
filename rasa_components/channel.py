"""The REST channel the gateway talks to (``credentials.yml``), Rasa's own with three changes.

- **A message sent twice is answered once.** The gateway sends each inbox message with its
  ``message_id``. When the tracker already holds a user message with that id and its answer (the
  gateway crashed after Rasa answered and before it stored the answer, and sent the message again), the
  bot messages that followed it are returned as they were: nothing is predicted, no action runs twice.
- **A failure is an HTTP 500, not an empty answer.** Rasa's channel answers ``[]`` when a message made
  it fail, which the gateway cannot tell from silence. With 500 the gateway parks the message after its
  retries instead of waiting for an outage that is not one.
- **Rasa's stores unreachable is an outage, not the message's fault.** The lock store's Redis stopped or
  restarting (``LockError``, a Redis connection error) answers 503, which the gateway treats as an engine
  outage: the message waits and is sent again. As a 500 it was parked after three tries (measured with
  ``scripts/faults.py --scaled``: Redis stopped for 30 s parked 67 messages). So does the tracker's
  database not answering (``rasa_components/tracker_store.py``), where Rasa would answer from an empty
  conversation and keep the turn in memory only.
- **No user text in the log.** Rasa's channel logs the text of a failing message; this one logs the
  error's type only.
- **The loaded model is kept off the garbage collector.** Once the server has started (the model is
  loaded before it starts), every object is frozen (``rasa_components/heap.py``).
"""

from __future__ import annotations

import logging
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.lock_store import LockError
from rasa.shared.core.events import BotUttered, UserUttered
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa_components import action_validation, heap
from rasa_components.tracker_store import STORE_FAILURES, windowed

log = logging.getLogger(__name__)
action_validation.install()  # Rasa checks each action's response without re-checking the schema each time
# what Rasa raises when its lock store (or another store it cannot do without) does not answer
STORES_UNREACHABLE = (LockError, RedisConnectionError, RedisTimeoutError, ConnectionError)


class SportelloInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("sportello_webhook", __name__)
        webhook.listener("after_server_start")(heap.freeze_after_start)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = request.json if isinstance(request.json, dict) else {}
            sender, text = body.get("sender"), body.get("message")
            message_id = body.get("message_id")
            if not isinstance(sender, str) or not isinstance(text, str):
                return response.json({"error": "sender and message must be strings"}, status=400)
            failures: list[str] = []
            watching = STORE_FAILURES.set(failures)
            try:
                answer = await self._answer(request, on_new_message, sender, text, body, message_id)
            finally:
                STORE_FAILURES.reset(watching)
            if failures:  # Rasa carried on without its tracker: the turn is not worth keeping
                log.error("Rasa's tracker store unreachable (%s): the message comes again", failures[0])
                return response.json({"error": failures[0]}, status=503)
            return answer

        return webhook

    async def _answer(
        self,
        request: Request,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        sender: str,
        text: str,
        body: dict[str, Any],
        message_id: Any,
    ) -> HTTPResponse:
        if isinstance(message_id, str) and message_id:
            earlier = await answered_before(request, sender, message_id)
            if earlier is not None:
                return response.json(earlier)
        collector = CollectingOutputChannel()
        message = UserMessage(
            text,
            collector,
            sender,
            input_channel=self.name(),
            metadata=body.get("metadata"),
            message_id=message_id if isinstance(message_id, str) and message_id else None,
        )
        try:
            await on_new_message(message)
        except CancelledError:
            log.error("a message timed out in Rasa")
            return response.json({"error": "timeout"}, status=503)
        except STORES_UNREACHABLE as exc:
            log.error("Rasa's stores unreachable (%s): the message comes again", type(exc).__name__)
            return response.json({"error": type(exc).__name__}, status=503)
        except Exception as exc:  # noqa: BLE001 - logged without the text; the gateway retries
            log.error("a message failed in Rasa (%s)", type(exc).__name__)
            return response.json({"error": type(exc).__name__}, status=500)
        return response.json(collector.messages)


async def answered_before(request: Request, sender: str, message_id: str) -> list[dict[str, Any]] | None:
    """The bot messages that answered the latest copy of ``message_id``; None when the tracker has no
    copy, or one that nothing answered (the action server was down): that one is worked again."""
    store = request.app.ctx.agent.tracker_store
    ours = windowed(store)
    if ours is not None and not ours.may_have_seen(sender, message_id):
        return None  # the usual case, known from one small query
    tracker = await store.retrieve(sender)
    if tracker is None:
        return None
    latest: list[dict[str, Any]] = []
    current: list[dict[str, Any]] | None = None
    for event in tracker.events:
        if isinstance(event, UserUttered):
            current = [] if event.message_id == message_id else None
            if current is not None:
                latest = current
        elif current is not None and isinstance(event, BotUttered):
            current.append(as_message(sender, event))
    return latest or None


def as_message(sender: str, event: BotUttered) -> dict[str, Any]:
    """A bot event as the REST channel sends it (``CollectingOutputChannel``'s shape)."""
    message: dict[str, Any] = {"recipient_id": sender}
    if event.text:
        message["text"] = event.text
    for key, value in (event.data or {}).items():
        if value:
            message[key] = value
    return message
