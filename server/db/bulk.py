"""Many-row inserts on the push path: :func:`insert_rows`.

SQLAlchemy's ``execute(insert(table), rows)`` costs ~25 µs of Python per row here (it builds each
row's parameters through the compiled statement's generic machinery), which for the ~500 rows of a
100-mutation push was more than SQLite's own work. Inside a SQLite write transaction (run on the
event loop by :mod:`server.db.sqlite_connection`) the rows go instead straight to the ``sqlite3``
connection's ``executemany``, each value converted by its column type's own SQLAlchemy bind
processor, so what is stored is exactly what SQLAlchemy would have stored. On PostgreSQL the same
converted rows go to the driver's own ``executemany`` (asyncpg: one prepared statement, the rows
pipelined in one round trip) through ``exec_driver_sql``, which keeps SQLAlchemy's transaction
handling; the generic path had made a push cost ~40% more server CPU there than on SQLite. Anywhere
else (a SQLite read transaction) it is SQLAlchemy's executemany.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import DateTime, Table, TypeDecorator, Uuid, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import sqlite_connection

_Plan = tuple[str, Callable[[Sequence[dict[str, Any]]], list[list[Any]]]]
_plans: dict[tuple[Table, tuple[str, ...], str], _Plan] = {}

# Column types whose bind processor is memoised within one call: a push's rows repeat a few values
# of these many times (the push's time in every step and receipt, an order's id in its steps, a
# record id in each of its change rows), and the processor is a Python function of the value alone.
# Equal values give equal results: equal datetimes are the same instant, stored as the same UTC text.
_MEMOISED = (DateTime, Uuid)


def _converter(columns: Sequence[Any], dialect: Dialect) -> Callable[[Sequence[dict[str, Any]]], list[list[Any]]]:
    """Row dicts to parameter lists: each row's values in column order (one C-level ``itemgetter``),
    then, column by column, each column's bind processor on its values, for the columns that have one."""
    names = [c.key for c in columns]
    get = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
    processors = []
    for i, c in enumerate(columns):
        process = c.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors.append((i, process, _memoised(c.type)))

    def convert(rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
        values = [list(get(row)) for row in rows]
        for i, process, memoised in processors:
            if memoised:
                memo: dict[Any, Any] = {}
                for row in values:
                    value = row[i]
                    try:
                        row[i] = memo[value]
                    except KeyError:
                        row[i] = memo[value] = process(value)
            else:
                for row in values:
                    row[i] = process(row[i])
        return values

    return convert


def _memoised(column_type: Any) -> bool:
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl
    return isinstance(column_type, _MEMOISED)


def _plan(table: Table, columns: tuple[str, ...], dialect: Dialect) -> _Plan:
    key = (table, columns, dialect.name)
    plan = _plans.get(key)
    if plan is None:
        missing = [c for c in table.columns if c.key not in columns and c.default is not None]
        if missing:
            # A Python-side default would be skipped by a raw insert; none of the push tables has one.
            raise ValueError(f"insert_rows({table.name}) needs {[c.key for c in missing]} in every row")
        cols = [table.columns[name] for name in columns]
        quote = dialect.identifier_preparer.quote
        marks = [f"${i}" for i in range(1, len(cols) + 1)] if dialect.name == "postgresql" else ["?"] * len(cols)
        sql = f"INSERT INTO {quote(table.name)} ({', '.join(quote(c.name) for c in cols)}) VALUES ({', '.join(marks)})"
        plan = _plans[key] = (sql, _converter(cols, dialect))
    return plan


async def insert_rows(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in the session's transaction."""
    if not rows:
        return
    connection = await session.connection()
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "asyncpg":
        sql, convert = _plan(table, tuple(rows[0]), connection.dialect)
        await connection.exec_driver_sql(sql, [tuple(row) for row in convert(rows)])
        return
    driver = (await connection.get_raw_connection()).driver_connection
    raw = driver.writing_connection() if isinstance(driver, sqlite_connection.Connection) else None
    if raw is None:
        await session.execute(insert(table), list(rows))
        return
    sql, convert = _plan(table, tuple(rows[0]), connection.dialect)
    raw.executemany(sql, convert(rows))
