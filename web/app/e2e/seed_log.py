"""Write N generated events (members, posts, edits, comments, likes) into a data directory's log.

    python web/app/e2e/seed_log.py DATA_DIR N

Used by the browser tests before `chronicle serve` starts on DATA_DIR: it
writes through the event store in large commits (bench.rebuild's generator),
far faster than appending through the API.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bench.rebuild import write_log
from events.bus import Bus
from events.db import create_engine, migrate
from events.store import SqlEventStore


async def main(folder: Path, total: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite+aiosqlite:///{folder.resolve() / 'chronicle.db'}"
    await migrate(url)
    engine = create_engine(url)
    bus = Bus("memory://")
    await bus.connect()
    store = SqlEventStore(engine, bus=bus)
    await store.start()
    try:
        await write_log(store, total)
    finally:
        await store.close()
        await bus.disconnect()
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
