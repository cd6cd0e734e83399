"""Orders as plain rows, for the batched ``step.add`` path of a push (``server/orders/steps.py``).

A hundred steps of one push touch a handful of orders: each step links its order's evidence chain,
and the first moves its update deadline. As ORM instances those orders cost attribute
instrumentation on every read and write, and a unit-of-work flush (with the board's change
detection) each time the push batch is written: about 1 ms of server time per 100-step push,
measured against these plain rows. An :class:`OrderRow` holds an order's columns as plain
attributes. The functions the step path calls with an order (``access.can_see``,
``access.audiences``, ``evidence.append``, ``sla.on_progress``) only read and set attributes, so
they take one as they take an ``Order``. :func:`write_changed` writes what changed, one ``UPDATE``
per set of changed columns.

Rows and ORM instances of one order never meet in a transaction: rows are loaded as a pass starts,
before any handler runs; the batch writes them before any handler that is not batch-aware runs and
forgets them after it (``server/syncing/mutations.py``), so a step after such a handler uses the ORM
instance instead (``StepCache.order``).

The dispatch board hears of orders written here through :data:`WRITTEN` (``server/board/live.py``
reads it at commit, as it collects ORM flushes of orders).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Update, bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.orders.models import Order

#: ``session.info`` key: the rows written in this transaction (a set), for the board.
WRITTEN = "wuye_order_rows_written"

ORDERS = Order.__table__
COLUMNS: tuple[str, ...] = tuple(ORDERS.c.keys())  # the mapped attribute names are the column keys


class OrderRow:
    """One order's columns, read with the push's row lock held (``FOR UPDATE``)."""

    __slots__ = ("__dict__", "_written")

    def __init__(self, values: dict[str, Any]):
        self.__dict__.update(values)
        self._written = values

    def changes(self) -> dict[str, Any]:
        """The columns set to another value since the row was read or last written."""
        written = self._written
        return {key: value for key, value in self.__dict__.items() if value != written[key]}

    def mark_written(self) -> None:
        self._written = dict(self.__dict__)

    def __repr__(self) -> str:
        return f"OrderRow({self.__dict__.get('id')})"


def order_row(values: Iterable[Any]) -> OrderRow:
    """A row from the values of :data:`COLUMNS`, in that order."""
    return OrderRow(dict(zip(COLUMNS, values, strict=True)))


_updates: dict[tuple[str, ...], Update] = {}


def _update(keys: tuple[str, ...]) -> Update:
    statement = _updates.get(keys)
    if statement is None:
        # SET values bound under other names: a bind parameter may not be named after a SET column.
        statement = _updates[keys] = (
            update(ORDERS).where(ORDERS.c.id == bindparam("row_id")).values({k: bindparam(f"new_{k}") for k in keys})
        )
    return statement


async def write_changed(session: AsyncSession, rows: Iterable[OrderRow]) -> None:
    """Write the changed columns of ``rows`` (one ``executemany`` per set of changed columns)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    written = []
    for row in rows:
        changes = row.changes()
        if not changes:
            continue
        params = {f"new_{k}": v for k, v in changes.items()}
        params["row_id"] = row.id
        groups.setdefault(tuple(changes), []).append(params)
        row.mark_written()
        written.append(row)
    if not groups:
        return
    connection = await session.connection()
    for keys, params in groups.items():
        await connection.execute(_update(keys), params)
    session.info.setdefault(WRITTEN, set()).update(written)
