from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

import msgspec

from server.bulletins.service import MAX_HIGHLIGHTS, MAX_PLANS
from server.wire import Wire

HHMM = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
PlanKind = Literal[
    "water_cut", "power_cut", "lift_maintenance", "fire_check", "gas_check", "pest_control", "greening", "cleaning",
    "other",
]  # fmt: skip


class OpenWeekIn(Wire):
    week_start: date
    estate_id: uuid.UUID | None = None


class PlanIn(Wire):
    kind: PlanKind
    day: date
    start: HHMM
    end: HHMM
    area: Annotated[str, msgspec.Meta(max_length=40)] = ""
    title: Annotated[str, msgspec.Meta(max_length=40)] = ""


class HighlightIn(Wire):
    order_id: uuid.UUID
    photo: Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")] | None = None
    caption: Annotated[str, msgspec.Meta(max_length=40)] = ""


class DraftIn(Wire):
    note: Annotated[str, msgspec.Meta(max_length=300)] = ""
    plans: Annotated[list[PlanIn], msgspec.Meta(max_length=MAX_PLANS * 2)] = []
    highlights: Annotated[list[HighlightIn], msgspec.Meta(max_length=MAX_HIGHLIGHTS * 2)] = []
