"""Composition root: settings, wiring, the ASGI app and the command line."""
