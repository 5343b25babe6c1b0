"""The files users sent for a ticket, on the dashboard: listed on the ticket page (an image inline, a
PDF as a link) and served one by one to a mediator of the ticket's city only.

A file is personal data and a user's upload: it is never cached, never sniffed into another type, never
run (a sandboxing CSP), and it carries a name of ours, never the sender's. Without a session the answer
is 403 (not a redirect to the login: an ``<img>`` cannot follow one usefully), as for another city.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.core.attachments import Attachment
from bot.core.errors import AttachmentNotFound
from bot.core.tickets import Mediator, Ticket
from bot.web.dashboard.keys import MEDIATOR
from bot.web.dashboard.views import local_time
from bot.web.keys import MEDIATION

ROUTE = "file.attachment"  # "file." routes answer 403 without a session (``auth_middleware``)
FILE_ROUTES = ("file.",)


def size_label(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{max(1, size // 1024)} KB"


def file_view(request: web.Request, attachment: Attachment) -> dict[str, Any]:
    url = request.app.router[ROUTE].url_for(
        ticket_id=attachment.ticket_id, attachment_id=str(attachment.id)
    )
    return {
        "id": attachment.id,
        "url": str(url),
        "image": attachment.is_image,
        "content_type": attachment.content_type,
        "size_label": size_label(attachment.size),
        "at_local": local_time(attachment.created_at),
        "name": download_name(attachment),
    }


async def file_views(request: web.Request, mediator: Mediator, ticket: Ticket) -> list[dict[str, Any]]:
    files = await request.config_dict[MEDIATION].files(mediator, ticket)
    return [file_view(request, attachment) for attachment in files]


def download_name(attachment: Attachment) -> str:
    """Ours: the ticket and the file's number (ASCII, nothing of what the sender called it)."""
    return f"{attachment.ticket_id}-{attachment.id}.{attachment.extension}"


async def attachment_file(request: web.Request) -> web.Response:
    raw_id = request.match_info["attachment_id"]
    ticket_id = request.match_info["ticket_id"]
    if not raw_id.isascii() or not raw_id.isdigit() or len(raw_id) > 12:
        raise AttachmentNotFound(ticket_id)
    mediation = request.config_dict[MEDIATION]
    attachment, content = await mediation.file(request[MEDIATOR], ticket_id, int(raw_id))
    disposition = "inline" if attachment.is_image else "attachment"
    headers = {
        "Content-Disposition": f'{disposition}; filename="{download_name(attachment)}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store, private",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    return web.Response(body=content, content_type=attachment.content_type, headers=headers)


def add_routes(dashboard: web.Application) -> None:
    dashboard.router.add_get(
        "/tickets/{ticket_id}/attachments/{attachment_id}", attachment_file, name=ROUTE
    )
