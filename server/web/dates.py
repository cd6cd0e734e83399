"""Calendar query parameters (``date``, ``day``, ``month``), bounded in one place.

A day far outside the years the product can have data for (``9999-12-31``, ``0001-01-01``) made the
period arithmetic overflow into a 500. Every such parameter is typed with :data:`DayQuery` or
:data:`MonthQuery` and read through :func:`day` or :func:`month`, which refuse anything outside
2000-01-01 … 2100-12-31 with ``400 validation_error`` naming the parameter.
"""

from __future__ import annotations

import re
from datetime import date

from litestar.params import QueryParameter

from server.errors import DomainError

EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")

DAY = f"YYYY-MM-DD (China time), {EARLIEST} … {LATEST}; today when absent"
MONTH_HELP = "YYYY-MM (China time), 2000-01 … 2100-12; this month when absent"


def day_query(name: str) -> QueryParameter:
    """The query parameter of a day (the type stays ``date | None``; read it through :func:`day`)."""
    return QueryParameter(name=name, description=DAY)


def month_query(name: str = "month") -> QueryParameter:
    return QueryParameter(name=name, max_length=7, pattern=f"^{MONTH.pattern}$", description=MONTH_HELP)


def _refuse(name: str, message: str) -> DomainError:
    return DomainError(
        "validation_error", f"{name}: {message}", status=400, details={"errors": [{"key": name, "message": message}]}
    )


def day(value: date | None, name: str) -> date | None:
    """``value`` when it lies in the bounds (None stays None: the caller's default applies)."""
    if value is not None and not EARLIEST <= value <= LATEST:
        raise _refuse(name, f"must lie between {EARLIEST} and {LATEST}")
    return value


def month(value: str | None, name: str = "month") -> date | None:
    """The first day of a ``YYYY-MM`` month within the bounds, or None when not given."""
    if value is None:
        return None
    m = MONTH.fullmatch(value)
    if m is None:
        raise _refuse(name, "must look like 2026-11")
    year, number = int(m.group(1)), int(m.group(2))
    if not EARLIEST.year <= year <= LATEST.year:  # before date(): year 0 is no date at all
        raise _refuse(name, f"must lie between {EARLIEST:%Y-%m} and {LATEST:%Y-%m}")
    return day(date(year, number, 1), name)
