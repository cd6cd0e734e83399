"""Who may see what. Four scopes, widest first: everything, own estate, own grid(s), own assignments.

Domain services take an :class:`Actor` and use these helpers; routes never decide scope themselves.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false

from server.accounts.models import Department, Role
from server.errors import Forbidden


class Scope(enum.StrEnum):
    everything = "everything"
    estate = "estate"
    grids = "grids"
    assignments = "assignments"


SCOPE_OF_ROLE = {
    Role.admin: Scope.everything,
    Role.supervisor: Scope.estate,
    Role.team_lead: Scope.estate,
    Role.front_desk: Scope.estate,
    Role.steward: Scope.grids,
    Role.technician: Scope.assignments,
}


@dataclass(frozen=True)
class Actor:
    """The signed-in staff member, as every service sees them."""

    staff_id: uuid.UUID
    name: str
    role: Role
    department: Department
    company_id: uuid.UUID
    estate_id: uuid.UUID | None
    grid_ids: frozenset[uuid.UUID]
    token_id: uuid.UUID | None = None
    # An admin's estates: those of his company (another company's are as if they did not exist).
    company_estates: frozenset[uuid.UUID] = frozenset()

    @property
    def scope(self) -> Scope:
        return SCOPE_OF_ROLE[self.role]

    def require_role(self, *roles: Role) -> None:
        if self.role not in roles:
            raise Forbidden(f"this needs one of the roles: {', '.join(r.value for r in roles)}")

    def sees_estate(self, estate_id: uuid.UUID) -> bool:
        if self.scope is Scope.everything:
            return estate_id in self.company_estates
        return self.estate_id == estate_id

    def sees_grid(self, estate_id: uuid.UUID, grid_id: uuid.UUID) -> bool:
        if self.scope in (Scope.everything, Scope.estate):
            return self.sees_estate(estate_id)
        return grid_id in self.grid_ids

    def where_estate(self, estate_col: ColumnElement) -> ColumnElement[bool]:
        """A WHERE clause keeping rows of the estates this actor may see (an admin: his company's)."""
        if self.scope is Scope.everything:
            return estate_col.in_(sorted(self.company_estates)) if self.company_estates else false()
        if self.estate_id is None:
            return false()
        return estate_col == self.estate_id

    def where_grid(self, estate_col: ColumnElement, grid_col: ColumnElement) -> ColumnElement[bool]:
        """A WHERE clause keeping rows in this actor's grids (or estate, for estate-wide roles)."""
        if self.scope in (Scope.everything, Scope.estate):
            return self.where_estate(estate_col)
        if self.scope is Scope.grids and self.grid_ids:
            return grid_col.in_(sorted(self.grid_ids))
        return false()


ESTATE_STAFF = (Role.admin, Role.supervisor, Role.team_lead, Role.front_desk)
MANAGERS = (Role.admin, Role.supervisor)

# The role order for acting on another account: a manager resets passwords only strictly below.
RANK = {
    Role.admin: 3,
    Role.supervisor: 2,
    Role.team_lead: 1,
    Role.front_desk: 0,
    Role.steward: 0,
    Role.technician: 0,
}


def outranks(role: Role, other: Role) -> bool:
    return RANK[role] > RANK[other]
