"""Messaging channels (ports and adapters): each parses its platform's updates into ``InboundMessage``
and sends ``Reply`` objects within its platform's limits. Web chat, Telegram, WhatsApp."""
