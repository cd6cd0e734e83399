from __future__ import annotations

import uuid

from server.wire import Out


class GridOut(Out):
    id: uuid.UUID
    estate_id: uuid.UUID
    name: str
    households: int


class HouseholdOut(Out):
    id: uuid.UUID
    estate_id: uuid.UUID
    grid_id: uuid.UUID
    label: str
    room: str
    owner_name: str
    owner_phone: str


class EstateOut(Out):
    id: uuid.UUID
    name: str
    code: str
    address: str
