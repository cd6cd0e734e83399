from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from server.accounts.models import Department, Role
from server.wire import Out, Wire

Phone = Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class LoginIn(Wire):
    phone: Phone
    password: Password
    device_name: Annotated[str, msgspec.Meta(max_length=100)] = ""


class StaffOut(Out):
    id: uuid.UUID
    name: str
    role: Role
    department: Department
    phone: str
    estate_id: uuid.UUID | None
    grid_ids: list[uuid.UUID]


class LoginOut(Out):
    token: str
    expires_at: datetime
    staff: StaffOut


class PasswordChangeIn(Wire):
    old_password: Password
    new_password: Password


class StaffCreateIn(Wire):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    phone: Phone
    role: Role
    department: Department
    password: Password
    estate_id: uuid.UUID | None = None
    grid_ids: list[uuid.UUID] = []
    gold: bool = False


class PasswordResetIn(Wire):
    new_password: Password
