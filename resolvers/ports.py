"""What resolvers need from the projection runner, as a protocol (tests pass a fake)."""

from __future__ import annotations

from typing import Protocol

from projections.tables import ReadTables


class ReadModel(Protocol):
    def tables(self) -> ReadTables:
        """The live generation of the read tables (blue/green rebuilds swap it)."""
        ...
