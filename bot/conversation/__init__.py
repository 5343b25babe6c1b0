"""The use cases: one inbound message to replies, the handoff, the mediator's work, privacy.

They take ports (``bot.core.ports``), never SQL or HTTP: the web layer wires the adapters in.
"""
