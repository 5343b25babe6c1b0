"""A local stand-in for the WhatsApp Cloud API (Meta Graph API), speaking its wire format.

Nothing here reaches the internet. The fake serves ``POST /{version}/{phone_number_id}/messages``,
validates requests the way the Cloud API does, tracks the 24-hour customer-service window and
records every request. Module-level builders produce the webhook payloads Meta POSTs to the
gateway; ``sign``/``post_webhook`` deliver them with a valid ``X-Hub-Signature-256``.

Where the field names come from (developers.facebook.com/documentation/business-messaging/whatsapp/...):

* send request/response (``messaging_product``, ``to``, ``type``; ``contacts[{input, wa_id}]``,
  ``messages[{id, message_status?}]``): the messages API; response also cross-checked with the
  official Node SDK docs (whatsapp.github.io/WhatsApp-Nodejs-SDK) and 360dialog's Cloud API pages.
* error object ``{"error": {message, type, code, error_data{messaging_product, details}, fbtrace_id}}``
  and the HTTP status of each code: support/error-codes ("Receiving Errors: Synchronous and
  Asynchronous"). ``details`` strings for button/row limits copy ones the real API returned.
* limits (text body 4096; <= 3 reply buttons, title 20, id 256; list button 20, <= 10 rows in
  total, row title 24, row id 200, description 72): messages/interactive-*-messages, mirrored in
  the official Node SDK reference (ButtonObject, RowObject).
* webhook envelope, ``contacts[{profile{name}, wa_id}]``, ``messages[]`` by type, ``statuses[]``:
  webhooks/reference/messages (+ /interactive, /audio, /image, /location, /contacts, /status).
  Since webhooks v24.0 the ``conversation`` object is omitted from statuses; ``pricing`` uses
  ``pricing_model: "PMP"`` (per-message pricing, July 2025).
* ``user_id`` (business-scoped user id, BSUID), ``profile.username``, ``messages[].from_user_id``
  and the omission of ``wa_id``/``from`` when the phone number is withheld: business-scoped-user-ids.
* ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed with the app secret>``:
  webhooks/create-webhook-endpoint and Graph API webhooks "getting started".
* media users send (business-phone-numbers/media, "Retrieve media URL" and "Download media"):
  ``GET /{version}/{media-id}`` with the bearer token answers ``{messaging_product, url, mime_type,
  sha256, file_size, id}``; the ``url`` (lookaside.fbsbx.com/whatsapp_business/attachments/?mid=...,
  here on this server) is downloaded with the same ``Authorization: Bearer`` header (without it: 401).
  An unknown media id is the Graph "Unsupported get request" error (code 100, subcode 33). The
  document webhook (reference/messages/document) carries ``{caption?, filename, mime_type, sha256, id,
  url}``.

The 24-hour window (code 131047): Meta's error-code page says Cloud API errors arrive
"synchronously as a Graph API response, asynchronously via Webhook, or sometimes through both".
For 131047 on the Cloud API the send is accepted (200 + wamid) and the failure arrives later as a
``failed`` status webhook carrying ``errors[{code: 131047, title: "Re-engagement message", ...}]``;
that is the default here (``window_error="webhook"``). Some BSP pages describe a synchronous HTTP
400 instead; ``window_error="sync"`` reproduces that so the gateway can be tested against both.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

import aiohttp
from aiohttp import web

GRAPH_VERSION = "v21.0"
WINDOW = timedelta(hours=24)
FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "whatsapp"
ERROR_CODES_URL = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
META_DOCS = "https://developers.facebook.com/documentation/business-messaging/whatsapp"

Json = dict[str, Any]
WindowMode = Literal["webhook", "sync"]

# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class GraphError:
    """A Graph API error response: HTTP status plus the ``error`` object."""

    status: int
    code: int
    message: str
    details: str | None = None
    type: str = "OAuthException"
    subcode: int | None = None

    def body(self, fbtrace_id: str) -> Json:
        """The JSON body, shaped like the support/error-codes "Error response syntax"."""
        error: Json = {"message": self.message, "type": self.type, "code": self.code}
        if self.details is not None:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = fbtrace_id
        return {"error": error}


# code -> (HTTP status, title, default details); titles and statuses from support/error-codes.
ERROR_CATALOGUE: dict[int, tuple[int, str, str]] = {
    100: (400, "Invalid parameter", "The request included one or more unsupported or misspelled parameters."),
    130429: (429, "Rate limit hit", "Cloud API message throughput has been reached."),
    131000: (500, "Something went wrong", "Message failed to send due to an unknown error."),
    131009: (400, "Parameter value is not valid", "One or more parameter values are invalid."),
    131047: (
        400,
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last "
        "replied to this number.",
    ),
    131051: (400, "Unsupported message type", "Message type is not currently supported."),
}


def graph_error(code: int, details: str | None = None, *, status: int | None = None) -> GraphError:
    """The error the Cloud API returns for ``code``; message is ``(#code) Title`` as on the wire."""
    default_status, title, default_details = ERROR_CATALOGUE.get(code, (400, "Error", "Unknown error."))
    return GraphError(status or default_status, code, f"(#{code}) {title}", details or default_details)


def token_error() -> GraphError:
    """HTTP 401, code 190: what Graph answers for a bad ``Authorization: Bearer`` token."""
    return GraphError(401, 190, "Invalid OAuth access token - Cannot parse access token")


def unknown_object_error(object_id: str, method: str = "post") -> GraphError:
    """What Graph answers when the phone number id (or media id) in the path is not ours."""
    return GraphError(
        400,
        100,
        f"Unsupported {method} request. Object with ID '{object_id}' does not exist, cannot be loaded due "
        "to missing permissions, or does not support this operation. Please read the Graph API "
        "documentation at https://developers.facebook.com/docs/graph-api",
        type="GraphMethodException",
        subcode=33,
    )


def webhook_error(code: int, details: str | None = None) -> Json:
    """An ``errors[]`` item as it appears in a ``failed`` status webhook (reference/messages/status)."""
    _, title, default_details = ERROR_CATALOGUE[code]
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details or default_details},
        "href": ERROR_CODES_URL,
    }


@dataclass(frozen=True)
class RawFailure:
    """A non-Graph failure (e.g. a bare 500 from a proxy) injected with ``fail_next_http``."""

    status: int
    text: str


# --------------------------------------------------------------------------- identities


@dataclass(frozen=True)
class Business:
    """The business side of a webhook: ``entry[].id`` and ``value.metadata``."""

    waba_id: str
    phone_number_id: str
    display_phone_number: str

    def metadata(self) -> Json:
        return {"display_phone_number": self.display_phone_number, "phone_number_id": self.phone_number_id}


@dataclass(frozen=True)
class Sender:
    """A WhatsApp user. ``wa_id`` is None when the phone number is withheld (username adopted)."""

    name: str
    wa_id: str | None
    user_id: str | None = None
    username: str | None = None

    def contact(self) -> Json:
        """The ``contacts[]`` item: profile{name, username?}, wa_id?, user_id?."""
        profile: Json = {"name": self.name}
        if self.username is not None:
            profile["username"] = self.username
        item: Json = {"profile": profile}
        if self.wa_id is not None:
            item["wa_id"] = self.wa_id
        if self.user_id is not None:
            item["user_id"] = self.user_id
        return item

    def origin(self) -> Json:
        """The sender fields of a ``messages[]`` item: ``from`` and/or ``from_user_id``."""
        fields: Json = {}
        if self.wa_id is not None:
            fields["from"] = self.wa_id
        if self.user_id is not None:
            fields["from_user_id"] = self.user_id
        return fields


# Example values used throughout Meta's webhook reference pages.
DOC_BUSINESS = Business("102290129340398", "106540352242922", "15550783881")
DOC_SENDER = Sender("Sheena Nelson", "16505551234")
DOC_BSUID = "US.13491208655302741918"  # example BSUID from business-scoped-user-ids
DOC_USERNAME = "sheena.nelson"

# --------------------------------------------------------------------------- request validation

BUTTON_TITLE_MAX, BUTTON_ID_MAX, BUTTONS_MAX = 20, 256, 3
LIST_BUTTON_MAX, ROWS_MAX, SECTIONS_MAX = 20, 10, 10
ROW_TITLE_MAX, ROW_ID_MAX, ROW_DESCRIPTION_MAX, SECTION_TITLE_MAX = 24, 200, 72, 24
TEXT_BODY_MAX, BUTTON_BODY_MAX, LIST_BODY_MAX, HEADER_FOOTER_MAX = 4096, 1024, 4096, 60
MEDIA_TYPES = ("image", "audio", "document", "video", "sticker")

Check = GraphError | None


def invalid(details: str) -> GraphError:
    """A structural problem with the request (code 100)."""
    return graph_error(100, details)


def out_of_range(details: str) -> GraphError:
    """A parameter value outside Meta's limits (code 131009)."""
    return graph_error(131009, details)


def length_ok(value: Any, maximum: int, minimum: int = 1) -> bool:
    return isinstance(value, str) and minimum <= len(value) <= maximum


def check_length(value: Any, what: str, maximum: int, minimum: int = 1) -> Check:
    """131009 with the wording the real API uses for length violations."""
    if length_ok(value, maximum, minimum):
        return None
    return out_of_range(f"{what} length invalid. Min length: {minimum}, Max length: {maximum}")


def first_error(checks: Iterator[Check]) -> Check:
    return next((error for error in checks if error is not None), None)


def check_text(text: Json) -> Check:
    body = text.get("body")
    if not isinstance(body, str) or not body:
        return invalid("The parameter text['body'] is required.")
    if len(body) > TEXT_BODY_MAX:
        return invalid(f"Param text['body'] must be at most {TEXT_BODY_MAX} characters long.")
    return None


def check_frame(interactive: Json, body_max: int) -> Check:
    """Body (required), header and footer of an interactive message."""
    body = interactive.get("body")
    if not isinstance(body, dict) or not isinstance(body.get("text"), str):
        return invalid("The parameter interactive['body']['text'] is required.")
    return first_error(
        iter(
            [
                check_length(body["text"], "Body text", body_max),
                check_optional_text(interactive.get("header"), "Header text"),
                check_optional_text(interactive.get("footer"), "Footer text"),
            ]
        )
    )


def check_optional_text(part: Any, what: str) -> Check:
    if part is None or (isinstance(part, dict) and part.get("type", "text") != "text"):
        return None
    if not isinstance(part, dict):
        return invalid(f"{what} must be an object.")
    return check_length(part.get("text"), what, HEADER_FOOTER_MAX)


def check_buttons(action: Json) -> Check:
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= BUTTONS_MAX:
        limits = f"Min allowed buttons: 1, Max allowed buttons: {BUTTONS_MAX}"
        return out_of_range(f"Invalid buttons count. {limits}")
    replies: list[Json] = [button["reply"] for button in buttons if is_reply_button(button)]
    if len(replies) != len(buttons):
        return invalid("Each button must be {'type': 'reply', 'reply': {'id', 'title'}}.")
    found = first_error(check_reply(reply) for reply in replies)
    return found or check_unique(replies, "Button")


def is_reply_button(button: Any) -> bool:
    """``{"type": "reply", "reply": {...}}``: the only button kind of an interactive "button" message."""
    if not isinstance(button, dict):
        return False
    return button.get("type") == "reply" and isinstance(button.get("reply"), dict)


def check_reply(reply: Json) -> Check:
    return check_length(reply.get("title"), "Button title", BUTTON_TITLE_MAX) or check_length(
        reply.get("id"), "Button id", BUTTON_ID_MAX
    )


def check_unique(items: list[Json], what: str) -> Check:
    for key in ("id", "title"):
        values = [item.get(key) for item in items]
        if len(set(values)) != len(values):
            return out_of_range(f"{what} {key}s must be unique.")
    return None


def check_list(action: Json) -> Check:
    sections = action.get("sections")
    if not isinstance(sections, list) or not 1 <= len(sections) <= SECTIONS_MAX:
        limits = f"Min allowed sections: 1, Max allowed sections: {SECTIONS_MAX}"
        return out_of_range(f"Invalid sections count. {limits}")
    if not all(isinstance(section, dict) for section in sections):
        return invalid("Each section must be an object.")
    rows = [row for section in sections for row in section.get("rows") or []]
    if not 1 <= len(rows) <= ROWS_MAX:
        return out_of_range(f"Total row count exceed max allowed count: {ROWS_MAX}")
    return first_error(
        itertools.chain(
            [check_length(action.get("button"), "Button text", LIST_BUTTON_MAX)],
            (check_section_title(section, len(sections)) for section in sections),
            (check_row(row) for row in rows),
            [check_unique(rows, "Row")],
        )
    )


def check_section_title(section: Json, count: int) -> Check:
    title = section.get("title")
    if title is None and count == 1:
        return None
    return check_length(title, "Section title", SECTION_TITLE_MAX)


def check_row(row: Any) -> Check:
    if not isinstance(row, dict):
        return invalid("Each row must be an object.")
    description = row.get("description")
    described = check_length(description, "Row description", ROW_DESCRIPTION_MAX, 0) if description else None
    return (
        check_length(row.get("title"), "Row title", ROW_TITLE_MAX)
        or check_length(row.get("id"), "Row id", ROW_ID_MAX)
        or described
    )


INTERACTIVE_KINDS: dict[str, tuple[Callable[[Json], Check], int]] = {
    "button": (check_buttons, BUTTON_BODY_MAX),
    "list": (check_list, LIST_BODY_MAX),
}


def check_interactive(interactive: Json) -> Check:
    kind = interactive.get("type")
    if kind not in INTERACTIVE_KINDS:
        return invalid(f"Param interactive['type'] must be one of {{{', '.join(INTERACTIVE_KINDS)}}}.")
    check_action, body_max = INTERACTIVE_KINDS[kind]
    action = interactive.get("action")
    if not isinstance(action, dict):
        return invalid("The parameter interactive['action'] is required.")
    return check_frame(interactive, body_max) or check_action(action)


def check_template(template: Json) -> Check:
    if not length_ok(template.get("name"), 512):
        return invalid("The parameter template['name'] is required.")
    language = template.get("language")
    if not isinstance(language, dict) or not length_ok(language.get("code"), 15):
        return invalid("The parameter template['language']['code'] is required.")
    components = template.get("components", [])
    if not isinstance(components, list) or not all(isinstance(c, dict) and "type" in c for c in components):
        return invalid("Param template['components'] must be a list of objects with a 'type'.")
    return None


def check_media(media: Json) -> Check:
    if "id" in media or "link" in media:
        return None
    return invalid("Media must have either an 'id' or a 'link'.")


def check_location(location: Json) -> Check:
    if all(isinstance(location.get(axis), int | float) for axis in ("latitude", "longitude")):
        return None
    return invalid("The parameters location['latitude'] and location['longitude'] are required.")


def check_reaction(reaction: Json) -> Check:
    if isinstance(reaction.get("message_id"), str):
        return None
    return invalid("The parameter reaction['message_id'] is required.")


VALIDATORS: dict[str, Callable[[Json], Check]] = {
    "text": check_text,
    "interactive": check_interactive,
    "template": check_template,
    "location": check_location,
    "reaction": check_reaction,
    **{media: check_media for media in MEDIA_TYPES},
}


def recipient_of(body: Json) -> str | None:
    """``to`` (phone number) or ``recipient`` (a BSUID, per business-scoped-user-ids)."""
    value = body.get("to") or body.get("recipient")
    return value if isinstance(value, str) and value else None


def check_envelope(body: Any) -> Check:
    if not isinstance(body, dict):
        return invalid("The request body must be a JSON object.")
    product = body.get("messaging_product")
    if product is None:
        return invalid("The parameter messaging_product is required.")
    if product != "whatsapp":
        return invalid(f'Param messaging_product must be one of {{WHATSAPP}} - got "{product}".')
    return None


def check_message(body: Any) -> Check:
    """Validate a send-message request like the Cloud API; None when it would be accepted."""
    envelope = check_envelope(body)
    if envelope is not None:
        return envelope
    if recipient_of(body) is None:
        return invalid("The parameter to is required.")
    kind = body.get("type", "text")  # Meta: type defaults to "text"
    if kind not in VALIDATORS:
        return invalid(f'Param type must be one of {{{", ".join(VALIDATORS).upper()}}} - got "{kind}".')
    payload = body.get(kind)
    if not isinstance(payload, dict):
        return invalid(f"The parameter {kind} is required.")
    return VALIDATORS[kind](payload)


def is_status_update(body: Any) -> bool:
    """Mark-as-read / typing indicator: ``{"messaging_product", "status": "read", "message_id"}``."""
    return isinstance(body, dict) and body.get("status") == "read"


def check_status_update(body: Json) -> Check:
    return check_envelope(body) or (
        None if isinstance(body.get("message_id"), str) else invalid("The parameter message_id is required.")
    )


# --------------------------------------------------------------------------- the fake


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def unix(at: datetime) -> str:
    """Webhook timestamps are unix seconds as strings."""
    return str(int(at.timestamp()))


def recipient_key(recipient: str) -> str:
    """Phone numbers compare by digits (``+39 333...`` == ``39333...``); BSUIDs as they are."""
    return recipient if "." in recipient else re.sub(r"\D", "", recipient)


def new_wamid(seed: str | None = None) -> str:
    """A ``wamid.`` id shaped like Meta's (base64 of an opaque blob)."""
    raw = (seed or uuid.uuid4().hex).encode()
    return "wamid." + base64.b64encode(b"HBgL" + raw).decode()


@dataclass(frozen=True)
class StoredMedia:
    media_id: str
    content: bytes
    mime_type: str


MEDIA_DOWNLOAD_PATH = "/whatsapp_business/attachments/"


@dataclass
class RecordedRequest:
    """One request the fake received, with what it answered."""

    method: str
    path: str
    version: str
    phone_number_id: str
    headers: dict[str, str]
    body: Any
    status: int
    response: Any


Failure = GraphError | RawFailure


@dataclass
class FakeGraph:
    """State of the fake Cloud API: window, injected failures, records and pending status webhooks."""

    token: str = "test-token"
    business: Business = DOC_BUSINESS
    window_error: WindowMode = "webhook"
    now: Callable[[], datetime] = utcnow
    requests: list[RecordedRequest] = field(default_factory=list)
    status_webhooks: list[Json] = field(default_factory=list)
    last_inbound: dict[str, datetime] = field(default_factory=dict)
    failures: deque[Failure] = field(default_factory=deque)
    counter: Iterator[int] = field(default_factory=itertools.count)
    media: dict[str, StoredMedia] = field(default_factory=dict)  # what users "sent", by media id
    downloads: list[str] = field(default_factory=list)  # media ids whose bytes were downloaded

    # -- media users send

    def add_media(self, content: bytes, mime_type: str) -> StoredMedia:
        """A file a user sent: its media id goes in the webhook, its bytes behind the media URL."""
        media_id = str(1_013_859_600_285_441 + next(self.counter))
        stored = StoredMedia(media_id, content, mime_type)
        self.media[media_id] = stored
        return stored

    def media_info(self, media_id: str, authorization: str | None, origin: str) -> tuple[int, Json]:
        """``GET /{media-id}``: the short-lived URL and what Meta knows of the file."""
        if authorization != f"Bearer {self.token}":
            return self.error(token_error())
        stored = self.media.get(media_id)
        if stored is None:
            return self.error(unknown_object_error(media_id, "get"))
        expires = unix(self.now() + timedelta(minutes=5))  # the URL is valid for five minutes
        return 200, {
            "messaging_product": "whatsapp",
            "url": f"{origin}{MEDIA_DOWNLOAD_PATH}?mid={media_id}&ext={expires}&hash=AT{media_id[-4:]}",
            "mime_type": stored.mime_type,
            "sha256": hashlib.sha256(stored.content).hexdigest(),
            "file_size": str(len(stored.content)),
            "id": media_id,
        }

    # -- test controls

    def user_wrote(self, wa_id: str, at: datetime | None = None) -> None:
        """Record an inbound message from ``wa_id`` (phone or BSUID), opening its 24 h window."""
        self.last_inbound[recipient_key(wa_id)] = at or self.now()

    def window_open(self, recipient: str) -> bool:
        last = self.last_inbound.get(recipient_key(recipient))
        return last is not None and self.now() - last < WINDOW

    def fail_next(self, code: int = 130429, details: str | None = None, *, status: int | None = None) -> None:
        """Make the next authorised request fail with Graph error ``code`` (default: rate limit hit)."""
        self.failures.append(graph_error(code, details, status=status))

    def fail_next_http(self, status: int = 500, text: str = "Internal Server Error") -> None:
        """Make the next authorised request fail with a bare, non-Graph HTTP error."""
        self.failures.append(RawFailure(status, text))

    # -- views for assertions

    @property
    def sent(self) -> list[Json]:
        """Bodies of the send requests the fake accepted (HTTP 200), in order."""
        return [r.body for r in self.requests if r.status == 200 and not is_status_update(r.body)]

    def pop_status_webhooks(self) -> list[Json]:
        """Status webhooks Meta would now POST to the gateway; the queue is emptied."""
        pending, self.status_webhooks = self.status_webhooks, []
        return pending

    # -- request handling (pure: no I/O, so it is easy to reason about)

    def handle(self, phone_number_id: str, authorization: str | None, body: Any) -> tuple[int, Any]:
        """Status and JSON (or text) answer for one ``POST .../messages``."""
        if authorization != f"Bearer {self.token}":
            return self.error(token_error())
        if phone_number_id != self.business.phone_number_id:
            return self.error(unknown_object_error(phone_number_id))
        if self.failures:
            return self.injected(self.failures.popleft())
        if is_status_update(body):
            return self.mark_read(body)
        problem = check_message(body)
        return self.error(problem) if problem else self.accept(body)

    def error(self, error: GraphError) -> tuple[int, Json]:
        return error.status, error.body(f"AFake{next(self.counter):06d}trace")

    def injected(self, failure: Failure) -> tuple[int, Any]:
        return (failure.status, failure.text) if isinstance(failure, RawFailure) else self.error(failure)

    def mark_read(self, body: Json) -> tuple[int, Json]:
        problem = check_status_update(body)
        return self.error(problem) if problem else (200, {"success": True})

    def accept(self, body: Json) -> tuple[int, Json]:
        recipient = recipient_of(body) or ""
        is_template = body.get("type") == "template"
        if not is_template and not self.window_open(recipient) and self.window_error == "sync":
            return self.error(graph_error(131047))
        wamid = new_wamid(f"{recipient_key(recipient)}:{next(self.counter):08d}")
        self.status_webhooks.append(self.outcome(wamid, recipient, is_template))
        return 200, send_response(recipient, wamid, is_template)

    def outcome(self, wamid: str, recipient: str, is_template: bool) -> Json:
        """The first status webhook for an accepted message: ``sent``, or ``failed`` with 131047."""
        where: Json = {"recipient": recipient_key(recipient), "at": self.now(), "business": self.business}
        if is_template or self.window_open(recipient):
            price = pricing(billable=is_template, category="utility" if is_template else "service")
            return status_update(wamid, "sent", price=price, **where)
        return status_update(wamid, "failed", errors=[webhook_error(131047)], **where)


def send_response(recipient: str, wamid: str, is_template: bool) -> Json:
    """The success body: ``{messaging_product, contacts[{input, wa_id}], messages[{id}]}``."""
    contact = {"input": recipient, "user_id" if "." in recipient else "wa_id": recipient_key(recipient)}
    message: Json = {"id": wamid}
    if is_template:
        message["message_status"] = "accepted"  # present on template sends
    return {"messaging_product": "whatsapp", "contacts": [contact], "messages": [message]}


# --------------------------------------------------------------------------- aiohttp app

STATE_KEY = web.AppKey("fake_graph", FakeGraph)


async def read_body(request: web.Request) -> Any:
    """Parsed JSON, or the raw text when the body is not JSON (validation then answers 100)."""
    raw = await request.text()
    try:
        return json.loads(raw)
    except ValueError:
        return raw


async def messages_endpoint(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    body = await read_body(request)
    phone_number_id = request.match_info["phone_number_id"]
    status, answer = state.handle(phone_number_id, request.headers.get("Authorization"), body)
    state.requests.append(
        RecordedRequest(
            request.method,
            request.path,
            request.match_info["version"],
            phone_number_id,
            dict(request.headers),
            body,
            status,
            answer,
        )
    )
    if isinstance(answer, str):
        return web.Response(status=status, text=answer)
    return web.json_response(answer, status=status)


async def media_endpoint(request: web.Request) -> web.Response:
    """``GET /{version}/{media-id}``: the media URL (on this server, standing in for lookaside)."""
    state = request.app[STATE_KEY]
    origin = str(request.url.origin())
    media_id, authorization = request.match_info["media_id"], request.headers.get("Authorization")
    status, answer = state.media_info(media_id, authorization, origin)
    return web.json_response(answer, status=status)


async def media_download(request: web.Request) -> web.Response:
    """The media URL: the bytes, only with the bearer token (a browser's plain GET gets nothing)."""
    state = request.app[STATE_KEY]
    if request.headers.get("Authorization") != f"Bearer {state.token}":
        status, answer = state.error(token_error())
        return web.json_response(answer, status=status)
    stored = state.media.get(request.query.get("mid", ""))
    if stored is None:
        return web.Response(status=404, text="Not Found")
    state.downloads.append(stored.media_id)
    return web.Response(body=stored.content, content_type=stored.mime_type)


def fake_graph_app(state: FakeGraph) -> web.Application:
    """The fake Cloud API as an aiohttp app; run it with pytest-aiohttp's ``aiohttp_server``."""
    app = web.Application()
    app[STATE_KEY] = state
    app.router.add_post(r"/{version:v\d+\.\d+}/{phone_number_id}/messages", messages_endpoint)
    app.router.add_get(r"/{version:v\d+\.\d+}/{media_id:\d+}", media_endpoint)
    app.router.add_get(MEDIA_DOWNLOAD_PATH, media_download)
    return app


def messages_path(business: Business = DOC_BUSINESS, version: str = GRAPH_VERSION) -> str:
    """``/v21.0/<phone_number_id>/messages``; join it to the fake server's base URL."""
    return f"/{version}/{business.phone_number_id}/messages"


# --------------------------------------------------------------------------- webhook builders


def webhook(value: Json, business: Business = DOC_BUSINESS) -> Json:
    """The envelope every ``messages`` webhook shares (reference/messages)."""
    inner = {"messaging_product": "whatsapp", "metadata": business.metadata(), **value}
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": business.waba_id, "changes": [{"value": inner, "field": "messages"}]}],
    }


def inbound(
    content: Json,
    *,
    sender: Sender = DOC_SENDER,
    msg_id: str | None = None,
    at: datetime | None = None,
    context: Json | None = None,
    business: Business = DOC_BUSINESS,
) -> Json:
    """An incoming-message webhook: ``contacts[sender]`` + one ``messages[]`` item with ``content``."""
    message: Json = {**({"context": context} if context else {}), **sender.origin()}
    message |= {"id": msg_id or new_wamid(), "timestamp": unix(at or utcnow()), **content}
    return webhook({"contacts": [sender.contact()], "messages": [message]}, business)


def text_message(body: str, **kwargs: Any) -> Json:
    """A text message (reference/messages/text)."""
    return inbound({"type": "text", "text": {"body": body}}, **kwargs)


def reply_context(context_id: str | None, business: Business) -> Json:
    """``context`` of a reply: the business number and the wamid of the message tapped."""
    return {"from": business.display_phone_number, "id": context_id or new_wamid()}


def button_reply(
    button_id: str,
    title: str,
    *,
    context_id: str | None = None,
    business: Business = DOC_BUSINESS,
    **kwargs: Any,
) -> Json:
    """A tap on a reply button (reference/messages/interactive, ``button_reply``)."""
    interactive = {"type": "button_reply", "button_reply": {"id": button_id, "title": title}}
    content = {"type": "interactive", "interactive": interactive}
    return inbound(content, context=reply_context(context_id, business), business=business, **kwargs)


def list_reply(
    row_id: str,
    title: str,
    description: str | None = None,
    *,
    context_id: str | None = None,
    business: Business = DOC_BUSINESS,
    **kwargs: Any,
) -> Json:
    """A row picked in a list message (reference/messages/interactive, ``list_reply``)."""
    row = {"id": row_id, "title": title, **({"description": description} if description is not None else {})}
    content = {"type": "interactive", "interactive": {"type": "list_reply", "list_reply": row}}
    return inbound(content, context=reply_context(context_id, business), business=business, **kwargs)


def media_url(media_id: str) -> str:
    return f"https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid={media_id}"


def media(media_id: str, mime_type: str, sha256: str, **extra: Any) -> Json:
    """A media object as in reference/messages/audio and /image: mime_type, sha256, id, url."""
    return {"mime_type": mime_type, "sha256": sha256, "id": media_id, "url": media_url(media_id), **extra}


def audio_message(
    media_id: str,
    *,
    voice: bool = True,
    mime_type: str = "audio/ogg; codecs=opus",
    sha256: str = "m04pFf2ERdaopTyFkGPA0+bX3i+YY2dYgVFwOgDLSDI=",
    **kwargs: Any,
) -> Json:
    """An audio message; ``voice: true`` marks a recorded voice note (reference/messages/audio)."""
    return inbound({"type": "audio", "audio": media(media_id, mime_type, sha256, voice=voice)}, **kwargs)


def image_message(
    media_id: str,
    caption: str | None = None,
    *,
    mime_type: str = "image/jpeg",
    sha256: str = "hZ8yJ2ZpQ0PjbLX1hGdlnAEz7Ksy9vqB0DXIgf1Yc9s=",
    **kwargs: Any,
) -> Json:
    """An image, with optional caption (reference/messages/image)."""
    extra = {"caption": caption} if caption is not None else {}
    return inbound({"type": "image", "image": media(media_id, mime_type, sha256, **extra)}, **kwargs)


def document_message(
    media_id: str,
    filename: str = "lettera_sfratto.pdf",
    caption: str | None = None,
    *,
    mime_type: str = "application/pdf",
    sha256: str = "G0bVfKd7d4h9hX8vY2n3lq0c3QqH8m5w2gT1r9y6PZs=",
    **kwargs: Any,
) -> Json:
    """A document, with its file name and optional caption (reference/messages/document)."""
    extra = {"caption": caption} if caption is not None else {}
    document = media(media_id, mime_type, sha256, filename=filename, **extra)
    return inbound({"type": "document", "document": document}, **kwargs)


def location_message(
    latitude: float,
    longitude: float,
    *,
    name: str | None = None,
    address: str | None = None,
    url: str | None = None,
    **kwargs: Any,
) -> Json:
    """A shared location; name/address/url only for a chosen place (reference/messages/location)."""
    place = {"address": address, "latitude": latitude, "longitude": longitude, "name": name, "url": url}
    location = {key: value for key, value in place.items() if value is not None}
    return inbound({"type": "location", "location": location}, **kwargs)


def contact_card(formatted_name: str, phone: str, wa_id: str | None = None, phone_type: str = "CELL") -> Json:
    """One shared contact card (name + phones) as in reference/messages/contacts."""
    first, _, last = formatted_name.partition(" ")
    name = {"formatted_name": formatted_name, "first_name": first, **({"last_name": last} if last else {})}
    number = {"phone": phone, **({"wa_id": wa_id} if wa_id else {}), "type": phone_type}
    return {"name": name, "phones": [number]}


def contacts_message(cards: list[Json], **kwargs: Any) -> Json:
    """One or more contact cards shared by the user (reference/messages/contacts)."""
    return inbound({"type": "contacts", "contacts": cards}, **kwargs)


def withheld_number_message(
    body: str,
    *,
    user_id: str = DOC_BSUID,
    username: str = DOC_USERNAME,
    name: str = DOC_SENDER.name,
    **kwargs: Any,
) -> Json:
    """A text from a user whose phone number is withheld: ``user_id``/``from_user_id`` only.

    Per business-scoped-user-ids: ``user_id`` (BSUID) is in every messages webhook, ``username``
    appears once the user adopted one, and ``wa_id``/``from`` are omitted when Meta withholds the
    number. Pass ``sender=Sender(..., wa_id=..., user_id=...)`` to ``text_message`` for the common
    case where both identifiers are present side by side.
    """
    sender = Sender(name, wa_id=None, user_id=user_id, username=username)
    return text_message(body, sender=sender, **kwargs)


def pricing(*, billable: bool, category: str, kind: str | None = None) -> Json:
    """``pricing`` of a status (per-message pricing): service replies in the window are free."""
    kind = kind or ("regular" if billable else "free_customer_service")
    return {"billable": billable, "pricing_model": "PMP", "type": kind, "category": category}


def status_update(
    message_id: str,
    status: Literal["sent", "delivered", "read", "failed"],
    *,
    recipient: str = DOC_SENDER.wa_id or "",
    at: datetime | None = None,
    price: Json | None = None,
    errors: list[Json] | None = None,
    business: Business = DOC_BUSINESS,
) -> Json:
    """A status webhook for a message the business sent (reference/messages/status)."""
    key = "recipient_user_id" if "." in recipient else "recipient_id"
    item: Json = {"id": message_id, "status": status, "timestamp": unix(at or utcnow()), key: recipient}
    if price is not None:
        item["pricing"] = price
    if errors is not None:
        item["errors"] = errors
    return webhook({"statuses": [item]}, business)


_REF = f"{META_DOCS}/webhooks/reference/messages"

# Where each saved fixture's shape comes from. text/button_reply/list_reply reuse the example
# values printed on those pages; the others follow the documented syntax with Sportello-like values.
FIXTURE_SOURCES: dict[str, str] = {
    "text": _REF,
    "button_reply": f"{_REF}/interactive",
    "list_reply": f"{_REF}/interactive",
    "audio_voice": f"{_REF}/audio",
    "image": f"{_REF}/image",
    "location": f"{_REF}/location",
    "contacts": f"{_REF}/contacts",
    "status_sent": f"{_REF}/status",
    "status_delivered": f"{_REF}/status",
    "status_read": f"{_REF}/status",
    "status_failed_131047": f"{_REF}/status + {META_DOCS}/support/error-codes",
    "text_with_bsuid": f"{META_DOCS}/business-scoped-user-ids",
    "text_phone_withheld": f"{META_DOCS}/business-scoped-user-ids",
}


def load_fixture(name: str) -> Json:
    """A saved webhook payload from ``tests/fixtures/whatsapp/`` (``name`` without ``.json``)."""
    loaded: Json = json.loads((FIXTURES_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


# --------------------------------------------------------------------------- signing and delivery

SIGNATURE_HEADER = "X-Hub-Signature-256"


def sign(body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` value: ``sha256=`` + hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def encode(payload: Json | bytes) -> bytes:
    """Payload bytes as Meta sends them (compact JSON, UTF-8, non-ASCII kept as is)."""
    if isinstance(payload, bytes):
        return payload
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Delivery:
    """What the webhook endpoint answered."""

    status: int
    text: str


async def post_webhook(
    session: aiohttp.ClientSession, url: str, payload: Json | bytes, app_secret: str
) -> Delivery:
    """POST a webhook payload to ``url`` signed with ``app_secret``, as Meta would."""
    body = encode(payload)
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, app_secret)}
    async with session.post(url, data=body, headers=headers) as response:
        return Delivery(response.status, await response.text())


async def deliver_statuses(
    session: aiohttp.ClientSession, url: str, app_secret: str, state: FakeGraph
) -> list[Delivery]:
    """POST every pending status webhook of ``state`` to ``url``, signed."""
    return [await post_webhook(session, url, payload, app_secret) for payload in state.pop_status_webhooks()]
