"""The log: event types, serialization, upcasting, the event store and the bus."""
