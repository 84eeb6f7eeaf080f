"""Event ids: UUID version 7 (RFC 9562), ordered by the time they were recorded.

Ids that grow with time land at the end of the unique index on ``event_id``
instead of on a random page, so inserting a group's rows stays cheap as the
log grows, and more so once the index outgrows the cache (bench/README.md,
"Figures behind code comments"). 74 random bits per id keep ids from concurrent writers
(other processes) apart.
"""

from __future__ import annotations

import os
import uuid

_new = object.__new__
_set = object.__setattr__
_UNKNOWN_SAFETY = uuid.SafeUUID.unknown
_VERSION_7 = 0x7 << 76
_VARIANT_RFC = 0b10 << 62
_RAND_B = (1 << 62) - 1


def event_id(unix_ms: int) -> uuid.UUID:
    rand = int.from_bytes(os.urandom(10))
    value = (unix_ms & 0xFFFF_FFFF_FFFF) << 80 | _VERSION_7 | (rand >> 68) << 64 | _VARIANT_RFC
    return uuid_from_int(value | rand & _RAND_B)


def event_id_texts(unix_ms: int, count: int) -> list[str]:
    """``count`` ids of the kind :func:`event_id` makes, in the canonical text they are
    stored as: appending needs only the text (a commit's RecordedEvents parse it
    back when asked for). The millisecond's part of the text is the same for all
    of them, and the 74 random bits of each are sliced out of one hex string, so an
    id costs a few slices instead of an int, a UUID and its ``__str__``."""
    stamp = f"{unix_ms & 0xFFFF_FFFF_FFFF:012x}"
    prefix = f"{stamp[:8]}-{stamp[8:]}-7"
    randomness = os.urandom(10 * count).hex()
    variant = _VARIANT_DIGIT
    return [
        f"{prefix}{r[0:3]}-{variant[r[3]]}{r[4:7]}-{r[7:19]}"
        for r in (randomness[i:i + 20] for i in range(0, 20 * count, 20))
    ]


_VARIANT_DIGIT = {f"{n:x}": "89ab"[n & 3] for n in range(16)}
"""A random hex digit as the first of the fourth group: the RFC 9562 variant (0b10)
and two of the id's random bits."""


def uuid_from_int(value: int) -> uuid.UUID:
    """``uuid.UUID(int=value)`` without the constructor's argument checks (hot path).

    The two slots set here are the ones UUID's own __init__ sets (Python 3.7 on);
    tests/unit/test_serialization.py checks the result equals the standard one.
    """
    made = _new(uuid.UUID)
    _set(made, "int", value)
    _set(made, "is_safe", _UNKNOWN_SAFETY)
    return made


def parse_uuid(text: str) -> uuid.UUID:
    """``uuid.UUID(text)`` for the canonical form we store, faster.

    UUID's constructor weighs five argument forms and strips URN prefixes and
    braces, a large share of decoding a long load.
    """
    return uuid_from_int(int(text.replace("-", ""), 16))
