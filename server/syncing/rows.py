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
"""

from __future__ import annotations

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
