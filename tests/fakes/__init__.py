"""Fakes, not mocks: in-memory implementations of our ports, and local servers that speak the exact
wire format of the services on the internet (Telegram's Bot API, Meta's Graph API) and of Rasa."""
