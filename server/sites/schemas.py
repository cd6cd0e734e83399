from __future__ import annotations

import uuid
from typing import Annotated

import msgspec

from server.wire import Out, Wire


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
    hotline: str


class EstateSettingsIn(Wire):
    """What a supervisor sets for the estate: the service centre's phone printed on the posters
    (digits with optional spaces, dashes, a leading + or a 转 extension; empty clears it)."""

    hotline: Annotated[
        str, msgspec.Meta(max_length=30, pattern=r"^$|^\+?[0-9][0-9 \-]{2,24}([ ]?(转|ext\.?)[ ]?[0-9]{1,6})?$")
    ]
