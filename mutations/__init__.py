"""GraphQL mutations: input -> command -> handler -> result, with read-your-writes.

Plain async functions; the ``schema`` package wraps them in strawberry types.
"""
