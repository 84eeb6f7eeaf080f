"""Python's cyclic garbage collector, paused while large batches are folded.

A batch of tens of thousands of events allocates a few hundred thousand
objects (decoded events, rows, parameter tuples) that all live until the
batch ends. Each burst of allocations triggers collections that traverse
every one of them again, a large share of a rebuild's CPU time (bench/README.md,
"Figures behind code comments"). None of them
is cyclic garbage (reference counting frees them when the batch is done), so
the collector is paused while batches are read and applied back to back, and
resumed once the last pause ends, when their objects are gone.

The collector is process-wide: pauses are counted, so overlapping ones (one
per projection, a read-ahead) resume it only when the last one ends, and a
collector someone else disabled stays disabled. Garbage cycles made
meanwhile by other tasks (a serving process answers requests during a
rebuild) wait, but never longer than ``LONGEST_PAUSE``: a pause begun after
that first collects the youngest generation, which holds everything
allocated since the collector stopped.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

LONGEST_PAUSE = 10.0
"""Seconds of back-to-back pauses after which cyclic garbage is collected once."""


class _Pauses:
    holders = 0
    resume = False
    """The collector was running when the first pause began."""
    collected_at = 0.0


def pause() -> Callable[[], None]:
    """Pause the collector until the returned function is called (once or more)."""
    now = time.monotonic()
    if _Pauses.holders == 0:
        _Pauses.resume = gc.isenabled()
        _Pauses.collected_at = now
        gc.disable()
    elif _Pauses.resume and now - _Pauses.collected_at > LONGEST_PAUSE:
        # A long rebuild must not hold a serving process's garbage cycles for minutes.
        gc.collect(0)
        _Pauses.collected_at = now
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
