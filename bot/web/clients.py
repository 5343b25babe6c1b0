"""What a request says about its client: whether it came over HTTPS, and from which address."""

from __future__ import annotations

from aiohttp import web


def is_https(request: web.Request) -> bool:
    """Directly, or through a proxy that says so in ``X-Forwarded-Proto``: cookies get ``Secure``."""
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.secure or forwarded == "https"


def client_address(request: web.Request) -> str:
    """Where a request came from, for limits and the audit log (the proxy's address when behind one)."""
    return request.remote or "unknown"
