"""`wuye demo`: a realistic estate in Chinese — 翠湖花园, 3 grids, 1,080 households, staff with known
demo passwords, six weeks of finished orders (``demo_history``) and today's shift in progress.
Idempotent: a second run changes nothing."""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import Department, Role, Staff
from server.accounts.service import create_staff
from server.answers.library import load_library
from server.clock import Clock
from server.demo_history import load_history
from server.notify.demo import seed_demo_policy
from server.sites.models import Building, Company, Estate, Grid, Household, Unit

DEMO_PASSWORD = "wuye2026"
ESTATE_CODE = "CH"

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌辉鹏宇浩凯琳雪梅琴云飞"


@dataclass(frozen=True)
class DemoStaff:
    name: str
    phone: str
    role: Role
    department: Department
    grids: tuple[int, ...] = ()
    gold: bool = False


DEMO_STAFF = (
    DemoStaff("系统管理员", "13800000000", Role.admin, Department.service),
    DemoStaff("王敏", "13800000001", Role.supervisor, Department.service),
    DemoStaff("陈刚", "13800000002", Role.team_lead, Department.service),
    DemoStaff("刘芳", "13800000003", Role.front_desk, Department.service),
    DemoStaff("张丽", "13800000011", Role.steward, Department.service, (0,)),
    DemoStaff("李娜", "13800000012", Role.steward, Department.service, (1,)),
    DemoStaff("赵静", "13800000013", Role.steward, Department.service, (2,), gold=True),
    DemoStaff("李强", "13800000021", Role.technician, Department.engineering),
    DemoStaff("王建国", "13800000022", Role.technician, Department.engineering),
    DemoStaff("张伟", "13800000023", Role.technician, Department.engineering),
    DemoStaff("孙涛", "13800000024", Role.technician, Department.engineering),
    # Every department the estate routes to has people who can take its queue (server/orders/routing.py).
    DemoStaff("周秀英", "13800000031", Role.technician, Department.cleaning),
    DemoStaff("吴桂兰", "13800000032", Role.technician, Department.cleaning),
    DemoStaff("郑勇", "13800000041", Role.technician, Department.security),
    DemoStaff("冯军", "13800000042", Role.technician, Department.security),
    DemoStaff("何平", "13800000051", Role.technician, Department.landscaping),
)

# Per category: a department queue, or a person by phone (the routing screen of the console edits these).
DEMO_ROUTING = (
    ("cleaning", "cleaning", None),
    ("security", "security", None),
    ("parking", "security", None),
    ("noise", "security", None),
    ("landscaping", "landscaping", None),
    ("fees", None, "13800000003"),  # 物业费: the desk answers
    ("renovation", None, "13800000002"),  # 装修: the team lead
)

GRID_NAMES = ("东区网格", "中区网格", "西区网格")
BUILDINGS_PER_GRID = 5
UNITS = ("1单元", "2单元")
FLOORS = 18
FLATS_PER_FLOOR = 2


def _owner(rng: random.Random) -> tuple[str, str]:
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    phone = "1" + rng.choice("3578") + "".join(rng.choice("0123456789") for _ in range(9))
    return name, phone


def _occupancy(rng: random.Random) -> dict[str, bool]:
    """About 1 flat in 14 empty (unsold or not moved in), 1 lived-in flat in 6 not lived in all year."""
    occupied = rng.random() < 0.93
    return {"occupied": occupied, "resident": occupied and rng.random() < 0.84}


async def load_demo(session: AsyncSession, clock: Clock) -> bool:
    """Create the demo estate. Returns False (and does nothing) when it already exists."""
    existing = await session.scalar(select(Estate.id).where(Estate.code == ESTATE_CODE))
    if existing:
        await _demo_walks(session, clock, existing)  # estates loaded before walks existed get their routes
        await _demo_routing(session, clock, existing)  # and their department staff and routing rules
        await _demo_bulletins(session, clock, existing)  # and their 园区周报
        company_id = await session.scalar(select(Estate.company_id).where(Estate.id == existing))
        await load_library(session, company_id, now=clock.now())  # and the standard answers (话术库)
        await seed_demo_policy(session, clock, existing)
        await _demo_duty(session, clock, existing)  # and office hours with a duty roster
        return False
    rng = random.Random(20261122)
    company = Company(name="翠湖物业服务有限公司")
    session.add(company)
    await session.flush()
    estate = Estate(
        company_id=company.id,
        name="翠湖花园",
        code=ESTATE_CODE,
        address="杭州市西湖区翠湖路88号",
        hotline="0571-88886666",
    )
    session.add(estate)
    await session.flush()
    grids = [Grid(estate_id=estate.id, name=name) for name in GRID_NAMES]
    session.add_all(grids)
    await session.flush()
    number = 0
    occupancy = random.Random(21)  # its own stream: the owners drawn from ``rng`` stay as they were
    for g, grid in enumerate(grids):
        for _ in range(BUILDINGS_PER_GRID):
            number += 1
            building = Building(estate_id=estate.id, grid_id=grid.id, name=f"{number}栋")
            session.add(building)
            await session.flush()
            for unit_name in UNITS:
                unit = Unit(building_id=building.id, name=unit_name)
                session.add(unit)
                await session.flush()
                for floor in range(1, FLOORS + 1):
                    for flat in range(1, FLATS_PER_FLOOR + 1):
                        room = f"{floor}{flat:02d}"
                        owner_name, owner_phone = _owner(rng)
                        session.add(
                            Household(
                                unit_id=unit.id,
                                grid_id=grid.id,
                                estate_id=estate.id,
                                room=room,
                                label=f"{building.name}{unit_name}{room}",
                                owner_name=owner_name,
                                owner_phone=owner_phone,
                                **_occupancy(occupancy),
                            )
                        )
        del g
    await session.flush()
    staff = {}
    for person in DEMO_STAFF:
        staff[person.phone] = await create_staff(
            session,
            clock=clock,
            company_id=company.id,
            estate_id=None if person.role is Role.admin else estate.id,
            name=person.name,
            phone=person.phone,
            role=person.role,
            department=person.department,
            password=DEMO_PASSWORD,
            grid_ids=[grids[i].id for i in person.grids],
            gold=person.gold,
        )
    await _demo_routing(session, clock, estate.id)
    stewards = {grids[g].id: staff[p.phone] for p in DEMO_STAFF for g in p.grids if p.role is Role.steward}
    await load_history(session, clock, staff, stewards)  # six weeks of finished work, for the KPIs
    await _demo_convenience(session, clock, staff)
    await seed_demo_policy(session, clock, estate.id)  # today's orders show their (unsent) messages
    await _demo_orders(session, clock, staff)
    await _demo_callbacks(session, clock, staff)
    await _demo_walks(session, clock, estate.id)
    await _demo_bulletins(session, clock, estate.id)
    await load_library(session, company.id, now=clock.now())
    await _demo_duty(session, clock, estate.id)
    return True


async def _demo_bulletins(session: AsyncSession, clock: Clock, estate_id) -> None:
    from server.bulletins.demo import seed_bulletins

    lead = await session.scalar(select(Staff).where(Staff.phone == "13800000002"))
    if lead is not None:
        await seed_bulletins(session, clock, estate_id, lead)


# 值班表: per night, an engineering technician first, then a steward, then the team lead; on rest days
# the same people hold the day shift. Rotating through these phones (server/duty/).
DUTY_TECHS = ("13800000021", "13800000022", "13800000023", "13800000024")
DUTY_STEWARDS = ("13800000011", "13800000012", "13800000013")
DUTY_LEAD = "13800000002"


async def _demo_duty(session: AsyncSession, clock: Clock, estate_id) -> None:
    """Office hours (Mon–Fri 08:30–17:30, 10 minutes to accept) and two weeks of roster, from
    yesterday, when the estate has no office hours yet."""
    from datetime import timedelta

    from server.clock import CHINA
    from server.duty import service as duty
    from server.duty.models import OfficeHours

    if await session.get(OfficeHours, estate_id) is not None:
        return
    now = clock.now()
    hours = await duty.set_hours(
        session, estate_id, opens="08:30", closes="17:30", workdays="12345", accept_minutes=10, now=now
    )
    ids = {
        p: await session.scalar(select(Staff.id).where(Staff.phone == p))
        for p in (*DUTY_TECHS, *DUTY_STEWARDS, DUTY_LEAD)
    }
    start = now.astimezone(CHINA).date() - timedelta(days=1)
    for i in range(14):
        day = start + timedelta(days=i)
        people = [ids[DUTY_TECHS[day.toordinal() % 4]], ids[DUTY_STEWARDS[day.toordinal() % 3]], ids[DUTY_LEAD]]
        shifts = ("night",) if str(day.isoweekday()) in hours.workdays else ("day", "night")
        for shift in shifts:
            await duty.set_shift(session, estate_id, day, shift, [p for p in people if p])
    await session.flush()


async def _demo_routing(session: AsyncSession, clock: Clock, estate_id) -> None:
    """The demo staff an older demo database lacks, and the routing rules when the estate has none."""
    from server.orders import routing
    from server.orders.models import Category, RoutingRule

    estate = await session.get(Estate, estate_id)
    have = set((await session.scalars(select(Staff.phone).where(Staff.estate_id == estate_id))).all())
    for person in DEMO_STAFF:
        if person.role is Role.admin or person.grids or person.phone in have:
            continue
        if await session.scalar(select(Staff.id).where(Staff.phone == person.phone)):
            continue
        await create_staff(
            session,
            clock=clock,
            company_id=estate.company_id,
            estate_id=estate_id,
            name=person.name,
            phone=person.phone,
            role=person.role,
            department=person.department,
            password=DEMO_PASSWORD,
            grid_ids=[],
        )
    await session.flush()
    if await session.scalar(select(RoutingRule.id).where(RoutingRule.estate_id == estate_id).limit(1)):
        return
    for category, department, phone in DEMO_ROUTING:
        handler = await session.scalar(select(Staff.id).where(Staff.phone == phone)) if phone else None
        await routing.set_rule(session, estate_id, Category(category), department=department, handler_id=handler)
    await session.flush()


TWICE = {"kind": "twice_daily", "hours": [7, 17]}  # the busy hours at lockers, gyms, playgrounds
DAILY = {"kind": "daily", "by_hour": 18}
# Per grid: the places of its 日常巡查 route ({first} is the grid's first building) and a flat under renovation.
DEMO_CHECKPOINTS = (
    (
        (("快递柜", "1栋北侧", TWICE), ("健身区", "中心花园东侧", TWICE), ("儿童游乐区", "中心花园", TWICE)),
        (("{first}栋大堂", "{first}栋1单元", DAILY), ("地下车库B1", "B1层电梯厅", DAILY)),
        "2栋1单元1202",
    ),
    (
        (("快递柜", "6栋西侧", TWICE), ("健身区", "8栋南侧", TWICE)),
        (("{first}栋大堂", "{first}栋1单元", DAILY), ("垃圾分类站", "9栋东侧", DAILY)),
        "7栋2单元601",
    ),
    (
        (("快递柜", "11栋北门", TWICE), ("儿童游乐区", "13栋前广场", TWICE)),
        (
            ("{first}栋大堂", "{first}栋1单元", DAILY),
            ("地下车库B1", "B1层入口", DAILY),
            ("垃圾分类站", "15栋东侧", DAILY),
        ),
        "14栋1单元1503",
    ),
)


async def _demo_walks(session: AsyncSession, clock: Clock, estate_id) -> None:
    """One route 日常巡查 per grid with its checkpoints and one 二次装修巡查 checkpoint (weekly).
    Does nothing when the estate already has routes."""
    from server.accounts.service import actor_for
    from server.walks import service
    from server.walks.models import WalkRoute

    if await session.scalar(select(WalkRoute.id).where(WalkRoute.estate_id == estate_id).limit(1)):
        return
    supervisor = await session.scalar(
        select(Staff).where(Staff.estate_id == estate_id, Staff.role == Role.supervisor).order_by(Staff.created_at)
    )
    if supervisor is None:
        return
    lead = await actor_for(session, supervisor)
    grids = (await session.scalars(select(Grid).where(Grid.estate_id == estate_id).order_by(Grid.name))).all()
    by_name = {g.name: g for g in grids}
    for grid_name, (busy, daily, flat) in zip(GRID_NAMES, DEMO_CHECKPOINTS, strict=True):
        grid = by_name.get(grid_name)
        if grid is None:
            continue
        first = GRID_NAMES.index(grid_name) * BUILDINGS_PER_GRID + 1
        route = await service.create_route(session, lead, grid.id, "日常巡查", now=clock.now())
        for name, location, frequency in (*busy, *daily):
            await service.create_checkpoint(
                session,
                lead,
                route.id,
                name=name.format(first=first),
                location=location.format(first=first),
                frequency=frequency,
                now=clock.now(),
            )
        await service.create_checkpoint(
            session,
            lead,
            route.id,
            name=f"{flat} 装修",
            location=f"{flat}（二次装修巡查）",
            checklist_type="renovation",
            frequency={"kind": "weekly", "weekday": 7},
            now=clock.now(),
        )


DEMO_ORDERS = (
    # kind, category, room label, description, assignee phone, actions by the assignee
    ("repair", "water_electric", "1栋1单元101", "厨房水槽下水管漏水，地面有积水", "13800000021", ()),
    ("repair", "water_electric", "2栋2单元1502", "卫生间灯不亮，换了灯泡也不行", "13800000021", ("accept",)),
    ("emergency", "water_electric", "3栋1单元802", "楼上漏水到我家天花板，在滴水", "13800000021", ("accept", "depart")),
    ("repair", "lift", "6栋1单元101", "6栋1单元电梯按钮失灵", "13800000022", ("accept", "depart", "arrive")),
    ("complaint", "noise", "7栋2单元1201", "楼上晚上11点后还在装修，噪音很大", "13800000012", ()),
    ("repair", "facilities", "11栋1单元301", "单元门禁刷卡没反应", "13800000023", ()),
    ("inquiry", "fees", "12栋2单元1701", "咨询今年物业费的缴费方式和优惠", None, ()),
    ("complaint", "cleaning", "4栋1单元502", "楼道垃圾两天没人清运，有异味", None, ()),
)


CONVENIENCE = ("代收快递", "上门开锁", "家电清洗预约", "代缴水电费", "借用梯子和工具")


async def _demo_convenience(session: AsyncSession, clock: Clock, staff: dict[str, Staff]) -> None:
    """A year of 便民 orders (some in the evening and at weekends), so 便民服务覆盖率 and the
    office / after-hours split have figures: done by a technician within the hour, called back by
    the 前台, closed."""
    from datetime import timedelta

    from server.accounts.service import actor_for
    from server.notifications.models import Notification
    from server.orders import feedback
    from server.orders.lifecycle import NewOrder, create_order, transition
    from server.orders.models import Category, Channel, Kind

    rng = random.Random(2112)
    desk = await actor_for(session, staff["13800000003"])
    worker = await actor_for(session, staff["13800000021"])
    households = (await session.scalars(select(Household).where(Household.resident.is_(True)))).all()
    for i in range(24):
        at = clock.now() - timedelta(days=rng.uniform(2, 360), hours=rng.choice((0, 0, 3, 5)))
        order = await create_order(
            session,
            desk,
            NewOrder(
                kind=Kind.convenience,
                category=Category.other,
                channel=rng.choice((Channel.phone, Channel.walk_in, Channel.group_chat)),
                description=CONVENIENCE[i % len(CONVENIENCE)],
                household_id=rng.choice(households).id,
                assignee_id=worker.staff_id,
            ),
            now=at,
        )
        for step, action in enumerate(("accept", "depart", "arrive", "complete")):
            await transition(session, worker, order.id, action, now=at + timedelta(minutes=10 + 10 * step))
        await feedback.record_callback(session, desk, order.id, "reached_satisfied", "", now=at + timedelta(hours=2))
        await transition(session, desk, order.id, "close", now=at + timedelta(hours=3))
    # Old news to the technician, as the history's own notifications (load_history).
    await session.execute(
        update(Notification).where(Notification.read_at.is_(None)).values(read_at=Notification.created_at)
    )


async def _demo_orders(session: AsyncSession, clock: Clock, staff: dict[str, Staff]) -> None:
    """A shift in progress: a few orders in each state, so every screen has something to show."""
    from server.accounts.service import actor_for
    from server.orders.lifecycle import NewOrder, create_order, transition
    from server.orders.models import Category, Channel, Kind

    desk = await actor_for(session, staff["13800000003"])
    for kind, category, label, text, assignee, actions in DEMO_ORDERS:
        household = await session.scalar(select(Household).where(Household.label == label))
        order = await create_order(
            session,
            desk,
            NewOrder(
                kind=Kind(kind),
                category=Category(category),
                channel=Channel.phone,
                description=text,
                household_id=household.id,
                assignee_id=staff[assignee].id if assignee else None,
            ),
            now=clock.now(),
        )
        if actions:
            worker = await actor_for(session, staff[assignee])
            for action in actions:
                await transition(session, worker, order.id, action, now=clock.now())


DEMO_CALLBACKS = (
    # room label (steward 张丽's grid), description, hours since completion, what happened since
    ("1栋1单元102", "阳台地漏堵塞，下雨倒灌", 50, "overdue"),  # its 48 h callback is past due
    ("1栋2单元301", "客厅插座没电", 5, "unreachable"),  # called once, nobody answered: try again
    ("2栋1单元201", "热水器打不着火", 26, "unsatisfied"),  # the owner rated 不满意: a callback order
)


async def _demo_callbacks(session: AsyncSession, clock: Clock, staff: dict[str, Staff]) -> None:
    """待回访 on the demo: for steward 张丽 (13800000011) and the desk, one callback overdue, one
    未联系上 waiting for its retry time, and one callback order from an owner's 不满意."""
    from datetime import timedelta

    from server.accounts.service import actor_for
    from server.orders import feedback
    from server.orders.lifecycle import NewOrder, create_order, transition
    from server.orders.models import Category, Channel, Kind, RatingLevel

    desk = await actor_for(session, staff["13800000003"])
    steward = await actor_for(session, staff["13800000011"])
    tech = staff["13800000021"]
    worker = await actor_for(session, tech)
    now = clock.now()
    for label, text, hours, then in DEMO_CALLBACKS:
        household = await session.scalar(select(Household).where(Household.label == label))
        start = now - timedelta(hours=hours, minutes=90)
        order = await create_order(
            session,
            desk,
            NewOrder(
                kind=Kind.repair,
                category=Category.water_electric,
                channel=Channel.phone,
                description=text,
                household_id=household.id,
                assignee_id=tech.id,
            ),
            now=start,
        )
        for i, action in enumerate(("accept", "depart", "arrive")):
            await transition(session, worker, order.id, action, now=start + timedelta(minutes=10 * (i + 1)))
        await transition(session, worker, order.id, "complete", now=now - timedelta(hours=hours))
        if then == "unreachable":
            await feedback.record_callback(
                session,
                steward,
                order.id,
                "unreachable",
                "电话无人接听",
                now=now - timedelta(hours=1),
                retry_at=now + timedelta(hours=1),
            )
        elif then == "unsatisfied":
            await feedback.rate(
                session, order.id, RatingLevel.unsatisfied, "修完第二天又打不着火了", now=now - timedelta(minutes=30)
            )


async def demo_logins(session: AsyncSession) -> list[tuple[str, str, str]]:
    rows = await session.execute(
        select(Staff.name, Staff.phone, Staff.role).where(Staff.phone.in_([p.phone for p in DEMO_STAFF]))
    )
    order = {p.phone: i for i, p in enumerate(DEMO_STAFF)}
    return sorted(((n, ph, str(r)) for n, ph, r in rows), key=lambda t: order[t[1]])
