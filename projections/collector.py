"""Python's cyclic garbage collector, paused while large batches are folded.

A batch of tens of thousands of events allocates a few hundred thousand
objects (decoded events, rows, parameter tuples) that all live until the
batch ends. Each burst of allocations triggers collections that traverse
every one of them again: measured, 40% of a rebuild's CPU time. None of them
is cyclic garbage (reference counting frees them when the batch is done), so
the collector is paused while batches are read and applied back to back, and
resumed once the last pause ends, when their objects are gone.

The collector is process-wide: pauses are counted, so overlapping ones (one
per projection, a read-ahead) resume it only when the last one ends, and a
collector someone else disabled stays disabled. Garbage cycles made
meanwhile by other tasks wait until then: memory for a while, never errors.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class _Pauses:
    holders = 0
    resume = False
    """The collector was running when the first pause began."""


def pause() -> Callable[[], None]:
    """Pause the collector until the returned function is called (once or more)."""
    if _Pauses.holders == 0:
        _Pauses.resume = gc.isenabled()
        gc.disable()
    _Pauses.holders += 1
    released = False

    def release() -> None:
        nonlocal released
        if released:
            return
        released = True
        _Pauses.holders -= 1
        if _Pauses.holders == 0 and _Pauses.resume:
            gc.enable()

    return release


@contextmanager
def collector_paused(paused: bool = True) -> Iterator[None]:
    """``pause()`` for the block (nothing when ``paused`` is false)."""
    release = pause() if paused else None
    try:
        yield
    finally:
        if release is not None:
            release()
