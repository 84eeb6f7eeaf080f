"""The write model: aggregates, commands, rules and handlers. Pure Python, no I/O of its own.

Every rule is listed at the top of :mod:`domain.handlers`; each aggregate module
(:mod:`domain.user`, :mod:`domain.post`, :mod:`domain.comment`, :mod:`domain.like`,
:mod:`domain.throttle`) holds its state, ``evolve`` and decide functions.
"""
