from __future__ import annotations

import uuid
from typing import Annotated, Literal

import msgspec

from server.wire import Wire

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
Location = Annotated[str, msgspec.Meta(max_length=100)]


class RouteIn(Wire):
    grid_id: uuid.UUID
    name: Name


class ChecklistItem(Wire):
    key: Annotated[str, msgspec.Meta(pattern="^[a-z0-9_]{1,40}$")]
    label: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]


class FrequencyIn(Wire):
    kind: Literal["daily", "twice_daily", "weekly"]
    hours: (
        Annotated[list[Annotated[int, msgspec.Meta(ge=0, le=23)]], msgspec.Meta(min_length=1, max_length=6)] | None
    ) = None
    by_hour: Annotated[int, msgspec.Meta(ge=1, le=24)] | None = None
    weekday: Annotated[int, msgspec.Meta(ge=1, le=7)] | None = None

    def as_dict(self) -> dict:
        return {k: v for k in ("kind", "hours", "by_hour", "weekday") if (v := getattr(self, k)) is not None}


class CheckpointIn(Wire):
    route_id: uuid.UUID
    name: Name
    frequency: FrequencyIn
    location: Location = ""
    checklist_type: Literal["standard", "renovation"] = "standard"
    checklist: Annotated[list[ChecklistItem], msgspec.Meta(min_length=1, max_length=30)] | None = None


class CheckpointPatch(Wire):
    name: Name | None = None
    location: Location | None = None
    checklist: Annotated[list[ChecklistItem], msgspec.Meta(min_length=1, max_length=30)] | None = None
    frequency: FrequencyIn | None = None
    active: bool | None = None

    def changes(self) -> dict:
        out = {}
        for k in ("name", "location", "active"):
            if (v := getattr(self, k)) is not None:
                out[k] = v
        if self.checklist is not None:
            out["checklist"] = [{"key": i.key, "label": i.label} for i in self.checklist]
        if self.frequency is not None:
            out["frequency"] = self.frequency.as_dict()
        return out
