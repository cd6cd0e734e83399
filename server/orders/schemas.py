from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from server.accounts.models import Department
from server.orders.models import Category, Channel, Kind, RatingLevel
from server.wire import Wire

Text = Annotated[str, msgspec.Meta(max_length=2000)]
Short = Annotated[str, msgspec.Meta(max_length=100)]


class OrderCreateIn(Wire):
    kind: Kind
    category: Category
    channel: Channel
    description: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    household_id: uuid.UUID | None = None
    estate_id: uuid.UUID | None = None
    location: Short = ""
    priority: Literal["normal", "urgent"] = "normal"
    reporter_name: Annotated[str, msgspec.Meta(max_length=50)] = ""
    reporter_phone: Annotated[str, msgspec.Meta(max_length=20)] = ""
    assignee_id: uuid.UUID | None = None
    department: Department | None = None  # a staffed queue; neither: the estate's routing rule
    internal_note: Text = ""
    id: uuid.UUID | None = None


class ActionIn(Wire):
    note: Text = ""
    assignee_id: uuid.UUID | None = None
    department: Department | None = None
    reason: Literal["waiting_owner", "parts_on_order", "other"] | None = None
    eta: datetime | None = None
    client_time: datetime | None = None


class Material(Wire):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    quantity: Annotated[float, msgspec.Meta(gt=0, le=100000)]
    unit: Annotated[str, msgspec.Meta(max_length=10)] = "个"


class Gps(Wire):
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    lng: Annotated[float, msgspec.Meta(ge=-180, le=180)]
    accuracy_m: Annotated[float, msgspec.Meta(ge=0)] | None = None


class StepIn(Wire):
    note: Text
    captured_at: datetime
    materials: Annotated[list[Material], msgspec.Meta(max_length=30)] = []
    photos: Annotated[list[Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]], msgspec.Meta(max_length=9)] = []
    gps: Gps | None = None
    id: uuid.UUID | None = None


class EtaIn(Wire):
    eta: datetime


class NoteIn(Wire):
    internal_note: Text


class RatingIn(Wire):
    level: RatingLevel
    comment: Annotated[str, msgspec.Meta(max_length=500)] = ""


class CallbackIn(Wire):
    result: Literal["reached_satisfied", "reached_unsatisfied", "unreachable"]
    note: Text = ""
    retry_at: datetime | None = None  # 未联系上: when to call again


class SlaPolicyIn(Wire):
    kind: Kind
    contact_minutes: Annotated[int, msgspec.Meta(ge=1, le=100000)] | None = None
    update_minutes: Annotated[int, msgspec.Meta(ge=1, le=100000)] | None = None
    resolve_minutes: Annotated[int, msgspec.Meta(ge=1, le=100000)] | None = None
    callback_minutes: Annotated[int, msgspec.Meta(ge=1, le=100000)] | None = None
