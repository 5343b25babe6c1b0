"""One action answers every topic intent from the knowledge files."""

from __future__ import annotations

from bot.dialogue import flows

from actions.base import FlowAction


class ActionAnswerTopic(FlowAction):
    action_name = "action_answer_topic"
    flow = staticmethod(flows.answer_topic)
