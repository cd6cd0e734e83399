"""A small, fully known world for tests: one company, two estates, grids, households and one staff
member of every role. Built through the real service functions, with one pre-computed password hash
so each test does not pay for scrypt eight times."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import Department, Role, Staff, StaffGrid
from server.accounts.passwords import hash_password
from server.clock import Clock
from server.sites.models import Building, Company, Estate, Grid, Household, Unit
from server.walks.models import Checkpoint, WalkRoute

PASSWORD = "correct-horse-battery"


TEST_LOG2_N = 14  # the conftest settings use this scrypt cost too (WUYE_PASSWORD_LOG2N)


@cache
def password_hash() -> str:
    return hash_password(PASSWORD, n=2**TEST_LOG2_N)


@dataclass
class World:
    company: Company
    estate: Estate
    other_estate: Estate
    grids: list[Grid]
    other_grid: Grid
    households: dict[str, Household]  # by label
    staff: dict[str, Staff] = field(default_factory=dict)  # by key: admin, supervisor, lead, desk, steward_a, …
    # Walk checkpoints: three on a route of grid 0 (steward_a's), then one on a route of grid 1.
    checkpoints: list[Checkpoint] = field(default_factory=list)
    routes: list[WalkRoute] = field(default_factory=list)

    def phone(self, key: str) -> str:
        return self.staff[key].phone

    def id(self, key: str) -> uuid.UUID:
        return self.staff[key].id


STAFF = (
    # key, name, phone, role, department, grids (indexes into world.grids; "other" for the other estate)
    ("admin", "管理员", "13900000000", Role.admin, Department.service, ()),
    ("supervisor", "王主管", "13900000001", Role.supervisor, Department.service, ()),
    ("lead", "陈组长", "13900000002", Role.team_lead, Department.service, ()),
    ("desk", "刘前台", "13900000003", Role.front_desk, Department.service, ()),
    ("steward_a", "张管家", "13900000011", Role.steward, Department.service, (0,)),
    ("steward_b", "李管家", "13900000012", Role.steward, Department.service, (1,)),
    ("tech_a", "李师傅", "13900000021", Role.technician, Department.engineering, ()),
    ("tech_b", "王师傅", "13900000022", Role.technician, Department.engineering, ()),
    ("cleaner", "赵保洁", "13900000031", Role.technician, Department.cleaning, ()),
    ("other_supervisor", "外项目主管", "13900000091", Role.supervisor, Department.service, ()),
    ("other_steward", "外项目管家", "13900000092", Role.steward, Department.service, ("other",)),
)


async def build_world(session: AsyncSession, clock: Clock) -> World:
    company = Company(name="测试物业")
    session.add(company)
    await session.flush()
    estate = Estate(company_id=company.id, name="翠湖花园", code="CH", address="", hotline="0571-88886666")
    other = Estate(company_id=company.id, name="碧水苑", code="BS", address="")
    session.add_all([estate, other])
    await session.flush()
    grids = [Grid(estate_id=estate.id, name="东区"), Grid(estate_id=estate.id, name="西区")]
    other_grid = Grid(estate_id=other.id, name="一区")
    session.add_all([*grids, other_grid])
    await session.flush()
    households: dict[str, Household] = {}
    for est, grid, bname in ((estate, grids[0], "1栋"), (estate, grids[1], "2栋"), (other, other_grid, "9栋")):
        building = Building(estate_id=est.id, grid_id=grid.id, name=bname)
        session.add(building)
        await session.flush()
        unit = Unit(building_id=building.id, name="1单元")
        session.add(unit)
        await session.flush()
        for room in ("101", "102", "201"):
            label = f"{bname}1单元{room}"
            h = Household(
                unit_id=unit.id,
                grid_id=grid.id,
                estate_id=est.id,
                room=room,
                label=label,
                owner_name=f"业主{label}",
                owner_phone=f"137{abs(hash(label)) % 10**8:08d}",
            )
            session.add(h)
            households[label] = h
    await session.flush()
    world = World(
        company=company, estate=estate, other_estate=other, grids=grids, other_grid=other_grid, households=households
    )
    for key, name, phone, role, dept, grid_refs in STAFF:
        est_id = None if role is Role.admin else (other.id if key.startswith("other") else estate.id)
        staff = Staff(
            company_id=company.id,
            estate_id=est_id,
            name=name,
            phone=phone,
            role=role,
            department=dept,
            password_hash=password_hash(),
            active=True,
            gold=False,
            created_at=clock.now(),
        )
        session.add(staff)
        await session.flush()
        for ref in grid_refs:
            gid = other_grid.id if ref == "other" else grids[ref].id
            session.add(StaffGrid(staff_id=staff.id, grid_id=gid))
        world.staff[key] = staff
    await session.flush()
    await _walk_routes(session, clock, world)
    return world


# name, location, checklist type, frequency
WALK_CHECKPOINTS = (
    ("快递柜", "1栋北侧", "standard", {"kind": "twice_daily", "hours": [7, 17]}),
    ("儿童游乐区", "中心花园", "standard", {"kind": "daily", "by_hour": 18}),
    ("1栋1单元201 装修", "1栋1单元201", "renovation", {"kind": "weekly", "weekday": 7}),
)


async def _walk_routes(session: AsyncSession, clock: Clock, world: World) -> None:
    from server.accounts.service import actor_for
    from server.walks import service

    lead = await actor_for(session, world.staff["supervisor"])
    for grid, points in (
        (world.grids[0], WALK_CHECKPOINTS),
        (world.grids[1], (("健身区", "2栋南侧", "standard", {"kind": "daily"}),)),
    ):
        route = await service.create_route(session, lead, grid.id, "日常巡查", now=clock.now())
        world.routes.append(route)
        for name, location, kind, frequency in points:
            world.checkpoints.append(
                await service.create_checkpoint(
                    session,
                    lead,
                    route.id,
                    name=name,
                    location=location,
                    checklist_type=kind,
                    frequency=frequency,
                    now=clock.now(),
                )
            )
