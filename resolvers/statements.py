"""SQLAlchemy selects run at driver level: compiled once per shape, bound per request.

Through the async engine every statement pays a pool checkout, a BEGIN, a
ROLLBACK, a connection reset and SQLAlchemy's own cache-key walk: on SQLite
that is most of a feed page's read (see ``events.reading``). The hot reads
build their statement with named ``bindparam`` values, compile it once for
the dialect, and run the SQL through the request's driver-level
:class:`~events.reading.Reader`, applying the columns' own result processors
(SQLite hands back datetimes as text) so the rows equal the engine's. Each
statement names the tables it reads to the reader (``events.reading``), for
the response cache's tags.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from events.read_recording import tables_in
from events.reading import Reader


@dataclass(frozen=True, slots=True)
class DriverSelect:
    sql: str
    binds: tuple[tuple[str, Callable[[Any], Any] | None], ...]
    """Positional parameters: the bind name and its type's bind processor."""
    defaults: Mapping[str, Any]
    """Values compiled into the statement (anonymous literals)."""
    keys: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    converts: bool
    """Some column has a result processor (decided when compiled, not per fetch)."""
    tables: frozenset[str] | None = None
    """The tables the statement reads (None: unknown), found when it was compiled."""

    def params(self, values: Mapping[str, Any]) -> list[Any]:
        params = []
        for name, process in self.binds:
            value = values[name] if name in values else self.defaults[name]
            params.append(value if process is None or value is None else process(value))
        return params

    async def fetch(self, reader: Reader, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        rows = await reader.fetch_small(self.sql, self.params(values), self.tables)
        keys, processors = self.keys, self.processors
        if not self.converts:
            return [dict(zip(keys, row, strict=True)) for row in rows]
        return [
            {key: value if process is None or value is None else process(value)
             for key, value, process in zip(keys, row, processors, strict=True)}
            for row in rows
        ]


def compile_select(statement: Select[Any], dialect: Dialect) -> DriverSelect:
    compiled = statement.compile(dialect=dialect)
    names = compiled.positiontup or []
    columns = list(statement.selected_columns)
    processors = tuple(_result_processor(c.type, dialect) for c in columns)
    return DriverSelect(
        sql=str(compiled),
        binds=tuple((name, _bind_processor(compiled.binds[name].type, dialect)) for name in names),
        defaults=compiled.params,
        keys=tuple(str(c.key) for c in columns),
        processors=processors,
        converts=any(processors),
        tables=tables_in(statement),
    )


def _bind_processor(type_: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """What the engine applies to a parameter of ``type_`` (public API: the type's
    implementation for the dialect, asked for its processor)."""
    return type_.dialect_impl(dialect).bind_processor(dialect)


def _result_processor(type_: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """What the engine applies to a column of ``type_`` in a result row (SQLite's
    datetimes arrive as text)."""
    return type_.dialect_impl(dialect).result_processor(dialect, None)


class Statements:
    """Compiled selects by a caller-chosen shape key (bounded; shapes are few)."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._compiled: dict[Hashable, DriverSelect] = {}

    def get(self, key: Hashable) -> DriverSelect | None:
        return self._compiled.get(key)

    def add(self, key: Hashable, statement: Select[Any], dialect: Dialect) -> DriverSelect:
        compiled = compile_select(statement, dialect)
        if len(self._compiled) >= self._size:
            self._compiled.clear()
        self._compiled[key] = compiled
        return compiled
