"""Server time. SLA deadlines run on this clock only; tests swap in a :class:`ManualClock`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

# The zone every time shown to a person is in (the estates are in mainland China; no DST).
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock(Clock):
    """A clock a test moves by hand."""

    def __init__(self, start: datetime | None = None):
        self._now = start or datetime(2026, 11, 22, 8, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **kwargs: float) -> datetime:
        self._now += timedelta(**kwargs)
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when
