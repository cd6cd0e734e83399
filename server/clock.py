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


# --- effective time --------------------------------------------------------------------------------

#: A correction (clock offset, or the clamp) beyond this flags the record (``skew_flag``).
SKEW_LIMIT = timedelta(minutes=5)


def effective_time(
    device_time: datetime | None,
    offset_ms: int | None,
    *,
    received_at: datetime,
    floor: datetime | None = None,
) -> tuple[datetime, bool]:
    """When an act done on a device counts (DESIGN.md §3, PROTOCOL.md "Effective time").

    The device's time for the act, corrected by the batch's clock offset (server time − batch
    ``client_time``), clamped to ``[floor, received_at]`` (``floor``: the previous event of the same
    record, so the order of a timeline never inverts; nothing happens after the server received it).
    The flag is set when the offset or the clamp moves the time by more than :data:`SKEW_LIMIT`.
    Without a device time the act counts when it was received. The one rule for orders and walks.
    """
    if device_time is None:
        at = received_at
        flagged = False
    else:
        offset = timedelta(milliseconds=offset_ms or 0)
        corrected = device_time + offset
        at = min(corrected, received_at)
        if floor is not None and at < floor:
            at = min(floor, received_at)
        flagged = abs(offset) > SKEW_LIMIT or abs(at - corrected) > SKEW_LIMIT
    return at, flagged
