"""A local stand-in for Rasa's REST channel, speaking its wire format, for gateway tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

Responder = Callable[[dict[str, Any]], list[dict[str, Any]]]


def echo_responder(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Answers like our actions do: a text with a button, then the control message."""
    metadata = body.get("metadata") or {}
    return [
        {
            "recipient_id": body["sender"],
            "text": f"echo:{body['message']}",
            "buttons": [{"title": "Menu", "payload": "/menu"}],
        },
        {
            "recipient_id": body["sender"],
            "custom": {
                "sportello": {
                    "topic": "tax_code" if "codice" in body["message"] else None,
                    "city": metadata.get("city"),
                }
            },
        },
    ]


Parser = Callable[[str], dict[str, Any]]


def no_parse(text: str) -> dict[str, Any]:
    """Rasa's /model/parse answer for a text nothing was recognised in."""
    return {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.3}, "entities": []}


def fake_rasa_app(
    responder: Responder, received: list[dict[str, Any]], parser: Parser = no_parse, token: str = ""
) -> web.Application:
    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        received.append(body)
        return web.json_response(responder(body))

    async def parse(request: web.Request) -> web.Response:
        """Rasa's HTTP API: 401 without the right ``?token=`` (as ``rasa run --auth-token``)."""
        if request.query.get("token") != token:
            return web.json_response({"status": "failure", "reason": "NotAuthenticated"}, status=401)
        body = await request.json()
        return web.json_response(parser(str(body.get("text", ""))))

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="Hello from Rasa: 3.6.21")  # what the real root answers

    app = web.Application()
    app.router.add_get("/", hello)
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_post("/model/parse", parse)
    return app


def fake_action_server_app() -> web.Application:
    """The action server's ``/health``, as rasa_sdk answers it: the gateway asks it when Rasa is silent."""

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/health", health)
    return app
