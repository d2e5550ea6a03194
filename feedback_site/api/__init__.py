"""Plumbing shared by every app's REST API: errors, parsing, pagination,
throttles, idempotent POSTs and the OpenAPI schema hooks.

Nothing here knows about submissions or jobs; the apps' ``api`` packages do.
"""
