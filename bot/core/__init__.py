"""The desk's own words: messages, tickets, ports, errors, the clock, settings and reference data.

Core imports nothing else from ``bot``: every other layer builds on it (see ARCHITECTURE.md).
"""
