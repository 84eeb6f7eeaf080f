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

from bench.rebuild import sqlite_log, write_log


async def main(folder: Path, total: int) -> None:
    async with sqlite_log(folder / "chronicle.db") as (_, _, store):
        await write_log(store, total)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
