"""WhatsApp Cloud API: the webhook (signatures, parsing) and the sending channel."""

from bot.adapters.whatsapp.channel import WhatsAppChannel
from bot.adapters.whatsapp.webhook import StatusUpdate, parse_notification, signature_ok, verify_subscription

__all__ = ["StatusUpdate", "WhatsAppChannel", "parse_notification", "signature_ok", "verify_subscription"]
