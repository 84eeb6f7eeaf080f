"""Python's cyclic garbage collector, paused while large batches are folded.

A batch of tens of thousands of events allocates a few hundred thousand
objects (decoded events, rows, parameter tuples) that all live until the
batch ends. Each burst of allocations triggers collections that traverse
every one of them again, a large share of a rebuild's CPU time (bench/README.md,
"Figures behind code comments"). None of them
is cyclic garbage (reference counting frees them when the batch is done), so
the collector is paused while batches are read and applied back to back, and
resumed once the last pause ends, when their objects are gone.

The collector is process-wide; a :class:`CollectorPauses` is the one owner
of its pauses for a projection runner (the runner makes one and hands it to
its drivers). Pauses are counted, so overlapping ones (one per projection, a
read-ahead) resume it only when the last one ends; each release counts once
however often it is called, and blocks release in ``finally``. A collector
someone else disabled stays disabled. Garbage cycles made meanwhile by other
tasks (a serving process answers requests during a rebuild) wait, but never
longer than ``LONGEST_PAUSE``: a pause begun after that first collects the
youngest generation, which holds everything allocated since the collector
stopped.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

LONGEST_PAUSE = 10.0
"""Seconds of back-to-back pauses after which cyclic garbage is collected once."""


class CollectorPauses:
    """Counted pauses of the cyclic garbage collector, resumed when the last one ends."""

    def __init__(self) -> None:
        self._holders = 0
        self._resume = False
        """The collector was running when the first pause began."""
        self._collected_at = 0.0

    def pause(self) -> Callable[[], None]:
        """Pause the collector until the returned function is called (once or more)."""
        now = time.monotonic()
        if self._holders == 0:
            self._resume = gc.isenabled()
            self._collected_at = now
            gc.disable()
        elif self._resume and now - self._collected_at > LONGEST_PAUSE:
            # A long rebuild must not hold a serving process's garbage cycles for minutes.
            gc.collect(0)
            self._collected_at = now
        self._holders += 1
        released = False

        def release() -> None:
            nonlocal released
            if released:
                return
            released = True
            self._holders -= 1
            if self._holders == 0 and self._resume:
                gc.enable()

        return release

    @contextmanager
    def paused(self, pause: bool = True) -> Iterator[None]:
        """:meth:`pause` for the block (nothing when ``pause`` is false)."""
        release = self.pause() if pause else None
        try:
            yield
        finally:
            if release is not None:
                release()
