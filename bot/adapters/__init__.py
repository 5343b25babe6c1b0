"""Adapters: the ports of ``bot.core`` on real machinery (SQL, Rasa, Telegram, WhatsApp, memory).

An adapter imports core only, never a use case: the web layer wires them together.
"""
