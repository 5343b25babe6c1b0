import pytest

from bot.core.commands import command_or_text


def test_known_commands_become_payloads_on_every_channel() -> None:
    assert command_or_text("/status") == "/check_status"
    assert command_or_text("/human@sportello_bot") == "/ask_human"
    assert command_or_text(" /forget ", payloads_allowed=True) == "/forget_me"


def test_a_typed_payload_acts_only_where_presses_arrive_as_text() -> None:
    press = '/choose_city{"city":"roma"}'
    assert command_or_text(press, payloads_allowed=True) == press
    assert command_or_text("/menu") == "menu"
    assert command_or_text(press) == 'choose_city{"city":"roma"}'
    assert command_or_text("ciao") == "ciao"


@pytest.mark.parametrize("typed", ["/ /affirm", "\u00a0/affirm", " //affirm", "/\u00a0/deny", "/ / /menu"])
def test_typed_text_never_reaches_rasa_as_a_payload(typed: str) -> None:
    """Rasa strips a message before it looks for "/": no leading slash may survive for typed channels."""
    text = command_or_text(typed)
    assert not text.strip().startswith("/"), text
