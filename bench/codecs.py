"""Encoding and decoding cost per event (``events.rows``), over a mix of 1 000 events.

300 PostCreated, 300 PostEdited, 300 PostLiked and 100 UserRegistered (whose
personal fields are sealed and unsealed with AES-GCM), best of 7 repeats.

Run: ``.venv/bin/python -m bench.codecs`` (pin it to a core with ``taskset -c 1``
on a shared machine); ``PYTHONPATH=<other checkout>`` measures other code.
"""

from __future__ import annotations

import timeit
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from events import crypto
from events.catalog import DomainEvent, PostCreated, PostEdited, PostLiked, UserRegistered
from events.rows import recorded_all, stored_text, tail_events


def main() -> None:
    key = crypto.new_key()
    events: list[DomainEvent] = [
        *(PostCreated(f"p{i}", "u1", "title", "body", ("a", "b")) for i in range(300)),
        *(PostEdited(f"p{i}", title="t2") for i in range(300)),
        *(PostLiked(f"p{i}", "u2") for i in range(300)),
        *(UserRegistered(f"u{i}", f"n{i}", "e@x.io", "N", "h") for i in range(100)),
    ]
    stored = [(e.spec.name, e.spec.schema_version, *stored_text(e, lambda _s: key))
              for e in events]
    now = datetime.now(UTC).isoformat()
    rows: list[tuple[Any, ...]] = [
        (i, str(uuid.uuid4()), "s", "post", 1, name, version, text, "a", "c", None, now,
         key if subject else None)
        for i, (name, version, text, subject) in enumerate(stored)
    ]
    tail = [(name, version, text, key if subject else None)
            for name, version, text, subject in stored]

    def per_event(work: Callable[[], object], number: int = 20) -> float:
        return min(timeit.repeat(work, number=number, repeat=7)) / number / len(events) * 1e6

    encode = per_event(lambda: [stored_text(e, lambda _s: key) for e in events])
    print("| path | µs per event |\n|---|---|")
    print(f"| encode (`stored_text`) | {encode:.2f} |")
    recorded = per_event(lambda: recorded_all(rows))
    domain = per_event(lambda: tail_events(tail))
    print(f"| decode to RecordedEvent (`recorded_all`) | {recorded:.2f} |")
    print(f"| decode to domain event (`tail_events`) | {domain:.2f} |")


if __name__ == "__main__":
    main()
