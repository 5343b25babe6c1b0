"""How long the gateway itself took to answer a webhook, in the standard ``Server-Timing`` header.

A platform sees the whole round trip. This header says how much of it was ours (reading the body, the
group commit) and so how much was waiting: for a CPU, for the socket to be accepted, for the client.
The webhook benchmark prints the two apart. Only webhooks carry it: the platforms are their only callers.
"""

from __future__ import annotations

import time

from aiohttp import web
from aiohttp.typedefs import Handler

WEBHOOKS = "/webhooks/"


def server_timing(seconds: float) -> str:
    return f"app;dur={seconds * 1000:.2f}"


@web.middleware
async def timing_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith(WEBHOOKS):
        return await handler(request)
    started = time.perf_counter()
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # a 4xx answer is timed too
        exc.headers["Server-Timing"] = server_timing(time.perf_counter() - started)
        raise
    response.headers["Server-Timing"] = server_timing(time.perf_counter() - started)
    return response
