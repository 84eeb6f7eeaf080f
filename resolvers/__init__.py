"""Queries and subscriptions over the read tables and the log.

Plain async functions returning rows and dataclasses, never GraphQL types:
the ``schema`` package turns them into strawberry objects.
"""
