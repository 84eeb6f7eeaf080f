"""The write model: aggregates, commands, rules and handlers. Pure Python, no I/O of its own."""
