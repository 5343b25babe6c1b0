"""Headers of every dashboard answer: its pages carry personal data."""

from __future__ import annotations

from aiohttp import web

from bot.web.clients import is_https


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Not cached, not framed, no script but ours; HSTS over HTTPS."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'",
    )
    if not isinstance(request.match_info.route.resource, web.StaticResource):
        response.headers.setdefault("Cache-Control", "no-store")
    if is_https(request):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
