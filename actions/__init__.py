"""Rasa custom actions (run by ``python -m actions``: rasa_sdk's server, the desk built first).
Thin: logic is in ``bot``."""

from actions.conversation import (
    ActionAffirm,
    ActionAskHuman,
    ActionCheckStatus,
    ActionChooseCity,
    ActionChooseLanguage,
    ActionDanger,
    ActionDeny,
    ActionForgetMe,
    ActionGoodbye,
    ActionGreet,
    ActionMenu,
    ActionNotUnderstood,
    ActionOutOfScope,
    ActionThanks,
)
from actions.topics import ActionAnswerTopic

__all__ = [
    "ActionAffirm",
    "ActionAnswerTopic",
    "ActionAskHuman",
    "ActionCheckStatus",
    "ActionChooseCity",
    "ActionChooseLanguage",
    "ActionDanger",
    "ActionDeny",
    "ActionForgetMe",
    "ActionGoodbye",
    "ActionGreet",
    "ActionMenu",
    "ActionNotUnderstood",
    "ActionOutOfScope",
    "ActionThanks",
]
