"""Waking a process's drivers on bus notices, so they act at once rather than at the next poll.

A new event (``EVENTS_CHANNEL``) wakes every driver; another process's notice
about one projection (``PROJECTIONS_CHANNEL``: a batch applied, a rebuild or
retry asked for) wakes its driver. A notice only hurries things up: a lost one,
or a subscription lost until it is made again, only waits for the poll.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from events.bus import EVENTS_CHANNEL, Bus, BusError
from projections.driver import Driver

log = logging.getLogger(__name__)

RESUBSCRIBE_DELAY = 0.2


async def listen(bus: Bus, channel: str, owner: str, drivers: Mapping[str, Driver]) -> None:
    """Wake ``drivers`` on the notices of ``channel`` until cancelled; the notices
    ``owner`` (this process) published are not news to it."""
    while True:
        try:
            async with bus.subscribe(channel) as notices:
                _wake_all(drivers)  # anything published before we listened
                async for notice in notices:
                    _on_notice(channel, notice, owner, drivers)
        except asyncio.CancelledError:
            raise
        except (BusError, RuntimeError) as exc:
            log.info("projections: %s subscription ended (%r); resubscribing", channel, exc)
        _wake_all(drivers)
        await asyncio.sleep(RESUBSCRIBE_DELAY)


def _on_notice(
    channel: str, notice: dict[str, Any], owner: str, drivers: Mapping[str, Driver]
) -> None:
    if channel == EVENTS_CHANNEL:
        _wake_all(drivers)
        return
    if notice.get("owner") == owner:
        return
    driver = drivers.get(str(notice.get("projection")))
    if driver is not None:
        driver.retry_wanted = driver.retry_wanted or bool(notice.get("retry"))
        driver.wake()


def _wake_all(drivers: Mapping[str, Driver]) -> None:
    for driver in drivers.values():
        driver.wake()
