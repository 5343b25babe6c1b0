"""Handoff to the one-stop shop: tickets, mediators, the audit log (port + SQLAlchemy adapter)."""
