"""What the desk misses, on the dashboard: the messages the assistant could not answer, grouped per
language and guessed topic, for staff to mark as training examples, knowledge to write or out of scope.
No user is shown (none is stored): the words, the language, the guess, the city and the day."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.conversation.review import Review
from bot.core.languages import direction
from bot.core.overview import Decision, MissedGroup
from bot.web.dashboard import auth
from bot.web.dashboard.i18n import N_
from bot.web.dashboard.keys import MEDIATOR
from bot.web.dashboard.responses import render, ticket_views, translator
from bot.web.dashboard.views import local_time, text_direction
from bot.web.keys import REVIEW

DECISIONS = {
    Decision.EXAMPLE: N_("Training examples for a topic"),
    Decision.KNOWLEDGE: N_("A knowledge entry is needed"),
    Decision.OUT_OF_SCOPE: N_("Out of scope"),
}
KINDS = {
    "not_understood": N_("Not understood"),
    "out_of_scope": N_("Out of scope"),
    "no_answer": N_("No answer yet"),
}


def review(request: web.Request) -> Review:
    return request.config_dict[REVIEW]


def group_view(request: web.Request, index: int, group: MissedGroup) -> dict[str, Any]:
    shown = ticket_views(request)
    tr = translator(request)
    return {
        "index": index,
        "language": group.language,
        "language_label": shown.language_label(group.language),
        "topic": group.topic or "",
        "topic_label": shown.topic_label(group.topic) if group.topic else tr._("No guess"),
        "count": len(group.messages),
        "messages": [
            {
                "id": m.id,
                "text": m.text,
                "dir": text_direction(m.language),
                "lang": m.language,
                "kind_label": tr._(KINDS.get(m.kind.value, m.kind.value)),
                "confidence": f"{m.confidence:.2f}",
                "city_name": shown.city_name(m.city) if m.city else "—",
                "at_local": local_time(m.at),
            }
            for m in group.messages
        ],
        "rtl": direction(group.language) == "rtl",
    }


async def review_page(request: web.Request) -> web.Response:
    mediator = request[MEDIATOR]
    groups = await review(request).groups(mediator)
    tr = translator(request)
    marked = request.query.get("marked", "")
    return render(
        request,
        "review.html",
        {
            "groups": [group_view(request, i, g) for i, g in enumerate(groups)],
            "knowledge": [
                group_view(request, i, g)
                for i, g in enumerate(await review(request).knowledge_needed(mediator))
            ],
            "decisions": [(d.value, tr._(label)) for d, label in DECISIONS.items()],
            "topics": ticket_views(request).topic_options(),
            "marked": int(marked) if marked.isdigit() else None,
        },
    )


async def mark(request: web.Request) -> web.Response:
    form = await auth.read_form(request)
    ids = [int(v) for v in form.getall("message", []) if isinstance(v, str) and v.isdigit()]
    decision, topic = str(form.get("decision", "")), str(form.get("topic", ""))
    marked = await review(request).mark(request[MEDIATOR], ids, decision, topic)
    return auth.see_other(request.app.router["review"].url_for().with_query(marked=str(marked)))


def add_routes(dashboard: web.Application) -> None:
    dashboard.router.add_get("/review", review_page, name="review")
    dashboard.router.add_post("/review/mark", mark, name="review.mark")
