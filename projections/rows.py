"""The statements a projection's batch reads and writes its rows with: driver-level, compiled once.

Rows are plain dicts (:data:`Row`). A batch loads the rows it touches by key in
a few ``IN`` lists (:func:`load_rows`) and writes them back through
:class:`~projections.writes.Writes`, one ``executemany`` per table and kind of
change (:func:`insert_rows`, :func:`update_rows`, :func:`delete_rows`,
:func:`execute_many`), each statement compiled once per table and dialect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import BindParameter, DateTime, Dialect, Table, bindparam
from sqlalchemy.ext.asyncio import AsyncConnection

from projections.writes import Writes

Row = dict[str, Any]

IN_CHUNK = 500
"""Ids per ``IN (...)`` list: far below SQLite's and asyncpg's bound-parameter limits."""


def chunks(values: Iterable[Any], size: int = IN_CHUNK) -> Iterable[list[Any]]:
    batch: list[Any] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def load_rows(
    conn: AsyncConnection, table: Table, column: str, keys: Iterable[Any]
) -> list[Row]:
    """Every row whose ``column`` is one of ``keys``, in a few ``IN`` queries.

    Values come as the driver returns them, without SQLAlchemy's result
    processing: rows are only folded and written back, and on SQLite parsing
    three datetimes per post row (to turn them into the same text again on
    write) cost more than the query.
    """
    rows: list[Row] = []
    sql = _keyed(table, column, conn.dialect, delete=False)
    for part in _in_lists(keys):
        result = await conn.exec_driver_sql(sql, part)
        names = tuple(result.keys())
        rows.extend(dict(zip(names, r, strict=True)) for r in result)
    return rows


async def delete_rows(out: Writes, table: Table, column: str, keys: Iterable[Any]) -> None:
    """Delete every row whose ``column`` is one of ``keys``, a few ``IN`` lists at a time."""
    sql = _keyed(table, column, out.dialect, delete=True)
    for part in _in_lists(keys):
        await out.send(sql, part, table.name)


def _in_lists(keys: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
    """The distinct keys, sorted, in tuples of exactly ``IN_CHUNK`` values: one statement
    text for every list (the last is padded by repeating a key, which changes nothing)."""
    for part in chunks(sorted(set(keys))):
        yield tuple(part + [part[-1]] * (IN_CHUNK - len(part)))


@lru_cache(maxsize=256)
def _keyed(table: Table, column: str, dialect: Dialect, *, delete: bool) -> str:
    """``SELECT *`` from (or ``DELETE`` from) ``table`` where ``column IN`` ``IN_CHUNK`` values."""
    keys: list[BindParameter[Any]] = [bindparam(f"k{i}") for i in range(IN_CHUNK)]
    statement = table.delete() if delete else table.select()
    return str(statement.where(table.c[column].in_(keys)).compile(dialect=dialect))


@dataclass(frozen=True)
class _Statement:
    table: str
    sql: str
    columns: tuple[str, ...]
    """The row key feeding each positional parameter, in order."""
    processors: tuple[Callable[[Any], Any] | None, ...]


def _positional(table: Table, dialect: Dialect, statement: Any, prefix: int) -> _Statement:
    compiled = statement.compile(dialect=dialect)
    names = tuple(name[prefix:] for name in compiled.positiontup or ())
    assert names, "a positional paramstyle is expected"
    processors = tuple(_bind_processor(table.c[name].type, dialect) for name in names)
    return _Statement(table.name, compiled.string, names, processors)


def _bind_processor(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    processor: Callable[[Any], Any] | None = type_.bind_processor(dialect)
    if processor is None and dialect.name == "sqlite" and isinstance(type_, DateTime):
        # sqlite3 would turn datetimes into text itself, in the driver's thread, through
        # its (slow, deprecated) default adapter, once per value, visible in a rebuild. The
        # same text made here is made once per distinct instant per batch (``_memoized``).
        return _sqlite_datetime
    return processor


def _sqlite_datetime(value: Any) -> Any:
    """Exactly the text sqlite3's default adapter stores for a datetime."""
    return value.isoformat(" ") if type(value) is datetime else value


@lru_cache(maxsize=256)
def _insert_for(table: Table, dialect: Dialect) -> _Statement:
    return _positional(table, dialect, table.insert(), 0)


@lru_cache(maxsize=256)
def _update_for(
    table: Table, key: str, dialect: Dialect, columns: tuple[str, ...] | None = None
) -> _Statement:
    # Bind names must differ from column names in UPDATE; the prefix is stripped again.
    names = columns or tuple(c.name for c in table.columns if c.name != key)
    statement = (
        table.update()
        .where(table.c[key] == bindparam(f"k_{key}"))
        .values({name: bindparam(f"v_{name}") for name in names})
    )
    return _positional(table, dialect, statement, 2)


async def insert_rows(out: Writes, table: Table, rows: list[Row]) -> None:
    """Insert complete rows with one driver-level ``executemany``."""
    if rows:
        await _execute_many(out, _insert_for(table, out.dialect), rows)


async def insert_tuples(
    out: Writes, table: Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """Insert rows given as tuples of ``columns``' values, which must need no bind
    processing (integers and text): sent as they are."""
    statement = _insert_for(table, out.dialect)
    if statement.columns != columns or any(statement.processors):
        raise ValueError(f"{table.name}: {columns} are not its columns, in order, as they are")
    if rows:
        await out.send(statement.sql, rows, table.name)


async def update_rows(
    out: Writes,
    table: Table,
    key: str,
    rows: list[Row],
    columns: tuple[str, ...] | None = None,
) -> None:
    """Rewrite rows by ``key`` (only ``columns``, if named): unlike delete + insert,
    untouched indexes stay put."""
    if rows:
        await _execute_many(out, _update_for(table, key, out.dialect, columns), rows)


async def _execute_many(out: Writes, statement: _Statement, rows: list[Row]) -> None:
    """SQLAlchemy's per-row parameter building costs more than the SQL itself at rebuild
    rates, so rows become tuples here, through the bind processors SQLAlchemy would
    apply (e.g. datetimes as text on SQLite)."""
    values: list[Any] = list(map(itemgetter(*statement.columns), rows))
    converted = [
        (i, _memoized(p)) for i, p in enumerate(statement.processors) if p is not None
    ]
    if converted:
        for index, row in enumerate(values):
            mutable = list(row)
            for i, process in converted:
                mutable[i] = process(mutable[i])
            values[index] = tuple(mutable)
    await out.send(statement.sql, values, statement.table)


@dataclass(frozen=True)
class Positional:
    """A statement compiled for the driver, and the names of its parameters in order."""

    sql: str
    names: tuple[str, ...]
    table: str | None = None
    """The table it writes (None: unknown)."""


def positional(statement: Any, dialect: Dialect) -> Positional:
    compiled = statement.compile(dialect=dialect)
    names = tuple(compiled.positiontup or ())
    assert names, "a positional paramstyle is expected"
    table = getattr(statement, "table", None)
    return Positional(compiled.string, names, getattr(table, "name", None))


async def execute_many(out: Writes, statement: Positional, params: list[Row]) -> None:
    """``statement`` once per parameter set, in one driver-level ``executemany``
    (values passed as they are: no bind processors)."""
    if params:
        get = itemgetter(*statement.names)
        one = len(statement.names) == 1
        values = [(get(p),) for p in params] if one else list(map(get, params))
        await out.send(statement.sql, values, statement.table)


def _memoized(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """History rows repeat the same instants many times; convert each once per batch."""
    seen: dict[Any, Any] = {}

    def process(value: Any) -> Any:
        try:
            return seen[value]
        except KeyError:
            result = seen[value] = processor(value)
            return result
        except TypeError:  # unhashable: nothing to share
            return processor(value)

    return process
