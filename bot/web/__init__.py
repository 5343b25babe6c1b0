"""The HTTP edge: the app factory, the web chat, the webhooks and the mediators' dashboard.

Handlers parse a request, call a use case and render its answer; domain errors become HTTP statuses here.
"""
