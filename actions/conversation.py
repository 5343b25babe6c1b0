"""Actions of the conversation itself: greetings, menus, language and city, not understood."""

from __future__ import annotations

from actions.base import FlowAction
from bot.dialogue import flows


class ActionGreet(FlowAction):
    action_name = "action_greet"
    flow = staticmethod(flows.greet)


class ActionGoodbye(FlowAction):
    action_name = "action_goodbye"
    flow = staticmethod(flows.goodbye)


class ActionThanks(FlowAction):
    action_name = "action_thanks"
    flow = staticmethod(flows.thanks)


class ActionMenu(FlowAction):
    action_name = "action_menu"
    flow = staticmethod(flows.menu)


class ActionChooseCity(FlowAction):
    action_name = "action_choose_city"
    flow = staticmethod(flows.choose_city)


class ActionChooseLanguage(FlowAction):
    action_name = "action_choose_language"
    flow = staticmethod(flows.choose_language)


class ActionNotUnderstood(FlowAction):
    action_name = "action_not_understood"
    flow = staticmethod(flows.not_understood)


class ActionOutOfScope(FlowAction):
    action_name = "action_out_of_scope"
    flow = staticmethod(flows.out_of_scope)


class ActionAskHuman(FlowAction):
    action_name = "action_ask_human"
    flow = staticmethod(flows.ask_human)


class ActionAffirm(FlowAction):
    action_name = "action_affirm"
    flow = staticmethod(flows.affirm)


class ActionDeny(FlowAction):
    action_name = "action_deny"
    flow = staticmethod(flows.deny)


class ActionCheckStatus(FlowAction):
    action_name = "action_check_status"
    flow = staticmethod(flows.check_status)


class ActionForgetMe(FlowAction):
    action_name = "action_forget_me"
    flow = staticmethod(flows.forget_me)


class ActionDanger(FlowAction):
    action_name = "action_danger"
    flow = staticmethod(flows.danger)
