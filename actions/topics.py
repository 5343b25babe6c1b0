"""One action answers every topic intent from the knowledge files."""

from __future__ import annotations

from actions.base import FlowAction
from bot.dialogue import flows


class ActionAnswerTopic(FlowAction):
    action_name = "action_answer_topic"
    flow = staticmethod(flows.answer_topic)
