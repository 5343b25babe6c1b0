"""Rasa, seen from the gateway: the engine client (REST channel) and its tracker store (the transcript)."""
