"""Forgetting a member on SQLite leaves no readable byte of them in the database files.

The read model drops their display name and bio and the store shreds their
key; SQLite would still keep the older page images in its write-ahead log and
the deleted bytes in free space until they are reused. The forget mutations
checkpoint the WAL (TRUNCATE) and every connection that writes zeroes what it
deletes (``secure_delete``).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from domain.commands import UpdateProfile
from events.tables import subject_keys
from tests.integration.test_queries_world import open_world

FORGET = 'mutation { forgetMe(password: "correct horse 1") { id } }'
MARKERS = (b"Zanzibar Quokka", b"Marmalade secret")


def database_bytes(data_dir: Path) -> bytes:
    files = sorted(data_dir.glob("chronicle.db*"))
    assert files, "no database files"
    return b"".join(f.read_bytes() for f in files)


async def test_a_forgotten_members_data_and_key_leave_the_sqlite_files(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with open_world(sqlite_url, tmp_path) as world:
        alice = await world.member("alice")
        await world.run(UpdateProfile(display_name="Zanzibar Quokka",
                                      bio="Marmalade secret, first draft"), alice)
        await world.run(UpdateProfile(bio="Marmalade secret, second draft"), alice)
        async with world.chronicle.engine.connect() as conn:
            key = (await conn.execute(select(subject_keys.c.key).where(
                subject_keys.c.subject_id == alice.user_id))).scalar_one()
        before = database_bytes(tmp_path)
        assert all(m in before for m in MARKERS) and bytes(key) in before

        await world.data(FORGET, alice)

        after = database_bytes(tmp_path)
        assert [m for m in MARKERS if m in after] == []
        assert bytes(key) not in after
