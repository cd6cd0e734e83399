"""Routing: which queue or person a new order of a category goes to, per estate.

Rules. An estate configures, per category, a department queue or one handler (a steward, a team
lead, a technician, the desk); without a rule the category's default department applies
(``DEPARTMENT_OF_CATEGORY``). A queue is only ever offered when it has active members who can take
from it (technicians and stewards of that department, the roles of the ``take`` transition). A
category whose queue or handler has nobody falls back to the estate's team lead, with a warning
that the order's timeline and the routing screen show. The desk's new-order form, the console's
assign picker and 一键转工单 of a walk finding all route through :func:`route`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import Department, Role, Staff
from server.errors import DomainError, NotFound
from server.orders.models import Category, Kind, RoutingRule

DEPARTMENT_OF_CATEGORY = {
    Category.water_electric: Department.engineering,
    Category.lift: Department.engineering,
    Category.facilities: Department.engineering,
    Category.cleaning: Department.cleaning,
    Category.security: Department.security,
    Category.parking: Department.security,
    Category.noise: Department.security,
    Category.landscaping: Department.landscaping,
}
DEPARTMENT_LABEL = {
    "service": "客服部",
    "engineering": "工程部",
    "cleaning": "保洁部",
    "security": "秩序部",
    "landscaping": "绿化部",
}
QUEUE_ROLES = (Role.technician, Role.steward)  # who may ``take`` from a department queue
HANDLER_ROLES = (Role.technician, Role.steward, Role.team_lead, Role.front_desk)
# Kinds whose handler may be a steward, the desk or a team lead; the rest go to field workers.
PEOPLE_KINDS = (Kind.complaint, Kind.callback, Kind.inquiry)


@dataclass(frozen=True)
class Route:
    department: str
    assignee_id: uuid.UUID | None = None
    assignee_name: str = ""
    warning: str = ""

    def as_json(self) -> dict:
        return {
            "department": self.department,
            "assignee_id": str(self.assignee_id) if self.assignee_id else None,
            "assignee_name": self.assignee_name,
            "warning": self.warning,
        }


def default_department(category: Category) -> str:
    return str(DEPARTMENT_OF_CATEGORY.get(category, Department.service))


async def queue_members(session: AsyncSession, estate_id: uuid.UUID) -> dict[str, int]:
    """Active members per department who can take from its queue (departments with none are absent)."""
    rows = await session.execute(
        select(Staff.department, func.count())
        .where(Staff.estate_id == estate_id, Staff.active.is_(True), Staff.role.in_(QUEUE_ROLES))
        .group_by(Staff.department)
    )
    return {str(d): n for d, n in rows.all()}


async def require_staffed(session: AsyncSession, estate_id: uuid.UUID, department: str) -> None:
    if department not in {str(d) for d in Department}:
        raise DomainError("validation_error", f"no such department: {department}", status=422)
    if not (await queue_members(session, estate_id)).get(department):
        label = DEPARTMENT_LABEL.get(department, department)
        raise DomainError(
            "empty_queue",
            f"{label}没有可接单的在岗人员，请改派给具体的人",
            status=422,
            details={"department": department},
        )


async def _team_lead(session: AsyncSession, estate_id: uuid.UUID) -> Staff | None:
    return await session.scalar(
        select(Staff)
        .where(Staff.estate_id == estate_id, Staff.active.is_(True), Staff.role == Role.team_lead)
        .order_by(Staff.created_at, Staff.id)
        .limit(1)
    )


async def route(session: AsyncSession, estate_id: uuid.UUID, category: Category) -> Route:
    rule = await session.scalar(
        select(RoutingRule).where(RoutingRule.estate_id == estate_id, RoutingRule.category == category)
    )
    if rule is not None and rule.handler_id is not None:
        person = await session.get(Staff, rule.handler_id)
        if person is not None and person.active and person.estate_id == estate_id:
            return Route(str(person.department), person.id, person.name)
        nobody = "指定的处理人已停用"
    else:
        department = (rule.department if rule is not None else None) or default_department(category)
        if (await queue_members(session, estate_id)).get(department):
            return Route(department)
        nobody = f"{DEPARTMENT_LABEL.get(department, department)}没有在岗人员"
    lead = await _team_lead(session, estate_id)
    if lead is None:
        return Route(str(Department.service), warning=f"{nobody}，且本项目没有组长：请前台手动派单")
    return Route(str(lead.department), lead.id, lead.name, warning=f"{nobody}，已转组长{lead.name}处理")


async def handlers(session: AsyncSession, estate_id: uuid.UUID, kind: Kind | None = None) -> list[Staff]:
    """The people an order of ``kind`` may be assigned to: field workers for repairs, and for
    complaints, callbacks and inquiries also stewards, the desk and team leads."""
    roles = HANDLER_ROLES if kind is None or kind in PEOPLE_KINDS else (Role.technician, Role.steward, Role.team_lead)
    return list(
        (
            await session.scalars(
                select(Staff)
                .where(Staff.estate_id == estate_id, Staff.active.is_(True), Staff.role.in_(roles))
                .order_by(Staff.role, Staff.name)
            )
        ).all()
    )


async def overview(session: AsyncSession, estate_id: uuid.UUID) -> dict:
    """The routing screen: every category's rule and where it routes now, staffed queues, handlers."""
    rules = {
        r.category: r
        for r in (await session.scalars(select(RoutingRule).where(RoutingRule.estate_id == estate_id))).all()
    }
    people = await handlers(session, estate_id)
    names = {p.id: p.name for p in people}
    members = await queue_members(session, estate_id)
    out = []
    for category in Category:
        rule = rules.get(category)
        out.append(
            {
                "category": category.value,
                "default_department": default_department(category),
                "department": rule.department if rule else None,
                "handler_id": str(rule.handler_id) if rule and rule.handler_id else None,
                "handler_name": names.get(rule.handler_id, "") if rule and rule.handler_id else "",
                "route": (await route(session, estate_id, category)).as_json(),
            }
        )
    return {
        "rules": out,
        "queues": [{"department": d, "members": n} for d, n in sorted(members.items())],
        "handlers": [
            {"id": str(p.id), "name": p.name, "role": str(p.role), "department": str(p.department)} for p in people
        ],
    }


async def set_rule(
    session: AsyncSession,
    estate_id: uuid.UUID,
    category: Category,
    *,
    department: str | None,
    handler_id: uuid.UUID | None,
) -> None:
    """One rule per category: a department, a handler, or neither (back to the default)."""
    if department is not None and handler_id is not None:
        raise DomainError("validation_error", "name a department or a handler, not both", status=422)
    if department is not None:
        await require_staffed(session, estate_id, department)
    if handler_id is not None:
        person = await session.get(Staff, handler_id)
        if person is None or person.estate_id != estate_id or not person.active:
            raise NotFound("staff")
        if person.role not in HANDLER_ROLES:
            raise DomainError("invalid_assignee", "a handler is a technician, steward, team lead or desk", status=422)
    rule = await session.scalar(
        select(RoutingRule).where(RoutingRule.estate_id == estate_id, RoutingRule.category == category)
    )
    if department is None and handler_id is None:
        if rule is not None:
            await session.delete(rule)
        return
    if rule is None:
        rule = RoutingRule(estate_id=estate_id, category=category)
        session.add(rule)
    rule.department, rule.handler_id = department, handler_id
