"""Column expressions that read values in their wire form, for rendering many records fast.

A pull page renders up to 1,000 records. Read through the ORM types, every UUID column becomes a
``uuid.UUID`` (parsed in Python) only to be turned back into text, and every JSON column goes
through ``json.loads``; for a page of steps that was most of the server's time. These expressions
give the same values with less work:

- :func:`uuid_text` makes the database produce the canonical text (``8-4-4-4-12`` lower-case hex):
  PostgreSQL casts its native ``uuid``; SQLite, where SQLAlchemy stores 32 lower-case hex digits,
  inserts the dashes.
- :func:`json_value` reads the stored JSON text and decodes it with msgspec (same values as
  ``json.loads`` for what the application writes) on SQLite.
- :func:`iso_time` gives a UTC timestamp as the text ``datetime.isoformat()`` makes of it. On
  SQLite the stored text is rearranged: parsing it into a ``datetime`` only to print it again cost
  ~8 µs a value. On PostgreSQL asyncpg's ``datetime`` is printed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import String, Text, TypeDecorator, type_coerce
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement


class uuid_text(FunctionElement):  # noqa: N801 - reads like the SQL function it stands for
    """``uuid_text(column)``: the UUID as canonical text, NULL stays NULL."""

    type = String()
    name = "uuid_text"
    inherit_cache = True


@compiles(uuid_text)
def _uuid_text_cast(element: uuid_text, compiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS VARCHAR)"


@compiles(uuid_text, "sqlite")
def _uuid_text_sqlite(element: uuid_text, compiler, **kw: Any) -> str:
    c = compiler.process(element.clauses, **kw)
    return f"substr({c},1,8)||'-'||substr({c},9,4)||'-'||substr({c},13,4)||'-'||substr({c},17,4)||'-'||substr({c},21)"


_decode = msgspec.json.Decoder().decode


class _JsonText(TypeDecorator):
    """SQLite hands over the stored text; asyncpg has decoded ``json`` already (SQLAlchemy registers
    a codec on its connections), so anything but text is kept as it is."""

    impl = Text
    cache_ok = True

    def process_result_value(self, value: Any, dialect) -> Any:
        return _decode(value) if isinstance(value, str) else value


def json_value(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """``column`` (a JSON column) decoded by msgspec instead of ``json.loads``, under its own name."""
    return type_coerce(column, _JsonText()).label(column.key)


class _IsoTime(TypeDecorator):
    """SQLAlchemy stores SQLite DATETIMEs as ``YYYY-MM-DD HH:MM:SS.ffffff`` (UTC here, see
    ``server.db.base.UTCDateTime``); ``isoformat()`` writes ``YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00``,
    leaving out a zero fraction."""

    impl = String
    cache_ok = True

    def process_result_value(self, value: Any, dialect) -> Any:
        if isinstance(value, str):
            fraction = value[19:26]
            return f"{value[:10]}T{value[11:19]}{'' if fraction.strip('.0') == '' else fraction}+00:00"
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat()
        return value


def iso_time(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """``column`` (a UTC datetime column) as ISO 8601 text, under its own name."""
    return type_coerce(column, _IsoTime()).label(column.key)
