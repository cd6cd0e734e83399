"""Importing an estate's households from a spreadsheet: every row checked, then all or nothing.

Columns (Chinese or English headers, any order, extra columns ignored):
楼栋 building · 单元 unit · 房号 room · 业主姓名 owner_name · 业主电话 owner_phone · 网格 grid.
Two optional columns say who lives there: 入住 occupied and 常住 resident (是/否, Y/N, 1/0, √/×;
blank = 是 for 入住, and as 入住 for 常住). They are the denominators of 业主月度互动率 (occupied) and
便民服务覆盖率 (resident) in server/orders/kpi.py; a flat marked 常住 but not 入住 is refused.
楼栋, 单元, 房号 and 网格 are required; the owner's name and phone may be blank (an unsold or vacant
flat), but a phone that is given must be a mainland mobile (1[3-9] and 9 digits, +86 allowed) or a
landline (0 + area code, optional hyphen, 7–8 digits). A lone dash (``-``, ``—``) in the owner's
name or phone is the usual mark for "none" and reads as blank.

A cell that a spreadsheet would run as a formula (an XLSX formula, or text starting with ``=``,
``+``, ``-``, ``@``) is refused with ``formula_cell``: stored, it would run again in the office PC's
spreadsheet when the households are exported. Signed numbers (a room ``-101``) and a phone written
``+86 …`` are data, not formulas, and pass.

A bare number is completed the way the estate names things: building "3" → "3栋", unit "2" →
"2单元"; "3号楼" or "A座" stay as written. The household label is building + unit + room
("3栋2单元201"), as everywhere else.

Every problem becomes one report entry (row number as in Excel, column as in the file, a code and
a Chinese explanation). If there is any, nothing is written. Otherwise the missing buildings and
units and all households are inserted in the caller's transaction with bulk INSERTs (50,000 rows
are a few statements, not 50,000 round trips).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass, field

import anyio
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.admin.tabular import Table, TableError, normalise_header, read_table
from server.errors import DomainError
from server.exports import is_formula_text
from server.ids import uuid7
from server.sites.models import Building, Grid, Household, Unit

MAX_ROWS = 100_000
MAX_REPORTED = 1000  # errors listed in full; the count is always exact

FIELDS = ("building", "unit", "room", "owner_name", "owner_phone", "grid", "occupied", "resident")
OPTIONAL = ("occupied", "resident")
REQUIRED = ("building", "unit", "room", "grid")
LABELS = {
    "building": "楼栋",
    "unit": "单元",
    "room": "房号",
    "owner_name": "业主姓名",
    "owner_phone": "业主电话",
    "grid": "网格",
    "occupied": "入住",
    "resident": "常住",
}
ALIASES = {
    "building": ("楼栋", "楼号", "楼栋号", "栋", "building"),
    "unit": ("单元", "单元号", "unit"),
    "room": ("房号", "房间号", "门牌号", "户号", "room"),
    "owner_name": ("业主姓名", "业主", "姓名", "owner_name", "owner"),
    "owner_phone": ("业主电话", "电话", "手机", "手机号", "联系电话", "owner_phone", "phone"),
    "grid": ("网格", "网格名称", "grid"),
    "occupied": ("入住", "是否入住", "已入住", "occupied"),
    "resident": ("常住", "是否常住", "常住户", "resident"),
}
YES = {"是", "y", "yes", "1", "√", "✓", "true", "入住", "常住"}
NO = {"否", "n", "no", "0", "×", "✗", "false", "空置", "未入住", "非常住"}
HEADER_KEYS = {normalise_header(a): f for f, names in ALIASES.items() for a in names}
MAX_LENGTH = {"building": 20, "unit": 20, "room": 20, "owner_name": 50}  # the columns' sizes
LABEL_LENGTH = 60

MOBILE = re.compile(r"(?:\+?86)?(1[3-9]\d{9})")
LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}")
NONE_MARKS = {"-", "—", "－", "--", "——"}  # "no owner", as Chinese sheets write it


@dataclass
class RowError:
    row: int
    column: str  # the header as written in the file (or the expected name when it is missing)
    field: str
    code: str
    problem: str
    value: str = ""


@dataclass
class Plan:
    """What an import would do (dry run) or did."""

    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    households: list[dict] = field(default_factory=list)
    buildings: list[dict] = field(default_factory=list)
    units: list[dict] = field(default_factory=list)

    def add(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED:
            self.errors.append(error)

    def report(self) -> dict:
        return {
            "errors": [asdict(e) for e in self.errors],
            "rows": self.rows,
            "error_count": self.error_count,
            "truncated": self.error_count > len(self.errors),
        }


def building_name(text: str) -> str:
    return f"{text}栋" if text.isdigit() else text


def unit_name(text: str) -> str:
    return f"{text}单元" if text.isdigit() else text


def room_name(text: str) -> str:
    return text[:-1] if text.endswith("室") and len(text) > 1 else text


def phone_number(text: str) -> str | None:
    """The phone as stored (mobile: 11 digits), or None when it is not a valid mainland number."""
    compact = re.sub(r"[\s()（）]", "", text)
    if m := MOBILE.fullmatch(compact):
        return m.group(1)
    if LANDLINE.fullmatch(compact):
        return compact
    return None


def parse(data: bytes) -> Table:
    return read_table(data, set(HEADER_KEYS), max_rows=MAX_ROWS)


async def parse_upload(data: bytes) -> Table:
    """Parse off the event loop: a 50,000-row XLSX takes seconds of CPU."""
    try:
        return await anyio.to_thread.run_sync(parse, data)
    except TableError as exc:
        raise DomainError(
            "import_invalid",
            exc.message,
            status=422,
            details={
                "errors": [asdict(RowError(0, "", "", exc.code, exc.message))],
                "rows": 0,
                "error_count": 1,
                "truncated": False,
            },
        ) from None


def _columns(table: Table, plan: Plan) -> dict[str, int]:
    where: dict[str, int] = {}
    for i, text in enumerate(table.header):
        f = HEADER_KEYS.get(normalise_header(text))
        if f is None:
            continue
        if f in where:
            plan.add(
                RowError(
                    table.header_row, text, f, "duplicate_column", f"表头中“{LABELS[f]}”列出现了两次，请删除多余的一列"
                )
            )
            continue
        where[f] = i
    for f in FIELDS:
        if f not in where and f not in OPTIONAL:
            plan.add(
                RowError(
                    table.header_row,
                    LABELS[f],
                    f,
                    "missing_column",
                    f"缺少“{LABELS[f]}”列（表头应为：楼栋,单元,房号,业主姓名,业主电话,网格）",
                )
            )
    return where


async def plan_import(session: AsyncSession, estate_id: uuid.UUID, table: Table) -> Plan:
    """Check every row against the file and the database; on success the plan holds the rows to insert."""
    plan = Plan(rows=len(table.rows))
    where = _columns(table, plan)
    if plan.error_count:
        return plan
    checker = _Checker(plan, estate_id, {f: table.header[i] for f, i in where.items()})
    await checker.load(session)
    for number, cells in table.rows:
        raw = {f: "" for f in OPTIONAL} | {f: cells[i] if i < len(cells) else "" for f, i in where.items()}
        checker.row(number, raw)
    plan.buildings, plan.units = list(checker.new_buildings.values()), list(checker.new_units.values())
    return plan


@dataclass
class _Checker:
    """The state of one pass over the file: what the estate has, what the rows so far add."""

    plan: Plan
    estate_id: uuid.UUID
    header: dict[str, str]  # field → header text in the file
    grids: dict[str, uuid.UUID] = field(default_factory=dict)
    buildings: dict[str, tuple[uuid.UUID, uuid.UUID]] = field(default_factory=dict)  # name → (id, grid)
    units: dict[tuple[uuid.UUID, str], uuid.UUID] = field(default_factory=dict)
    existing: set[tuple[str, str, str]] = field(default_factory=set)
    seen: dict[tuple[str, str, str], int] = field(default_factory=dict)  # key → first row in the file
    building_grid: dict[str, tuple[str, int]] = field(default_factory=dict)  # → (grid name, first row)
    new_buildings: dict[str, dict] = field(default_factory=dict)
    new_units: dict[tuple[str, str], dict] = field(default_factory=dict)

    async def load(self, session: AsyncSession) -> None:
        estate = self.estate_id
        self.grids = dict((await session.execute(select(Grid.name, Grid.id).where(Grid.estate_id == estate))).all())
        for bid, name, gid in await session.execute(
            select(Building.id, Building.name, Building.grid_id).where(Building.estate_id == estate)
        ):
            self.buildings[name] = (bid, gid)
        for uid, bid, name in await session.execute(
            select(Unit.id, Unit.building_id, Unit.name)
            .join(Building, Building.id == Unit.building_id)
            .where(Building.estate_id == estate)
        ):
            self.units[(bid, name)] = uid
        self.existing = set(
            (
                await session.execute(
                    select(Building.name, Unit.name, Household.room)
                    .join(Unit, Unit.id == Household.unit_id)
                    .join(Building, Building.id == Unit.building_id)
                    .where(Household.estate_id == estate)
                )
            ).all()
        )

    def row(self, number: int, raw: dict[str, str]) -> None:
        plan, before = self.plan, self.plan.error_count

        def fail(f: str, code: str, problem: str, value: str = "") -> None:
            plan.add(RowError(number, self.header[f], f, code, problem, value))

        for f in ("owner_name", "owner_phone"):
            if raw[f] in NONE_MARKS:
                raw[f] = ""
        for f in FIELDS:
            if f in raw and is_formula_text(raw[f]) and not (f == "owner_phone" and phone_number(raw[f])):
                fail(
                    f,
                    "formula_cell",
                    f"“{LABELS[f]}”是公式或以 = + - @ 开头，为防公式注入不能导入；"
                    "请改为纯文本（公式可复制后“选择性粘贴→数值”）",
                    raw[f],
                )
        if plan.error_count > before:
            return
        for f in REQUIRED:
            if not raw[f]:
                fail(f, "required", f"“{LABELS[f]}”不能为空")
        b, u, r = building_name(raw["building"]), unit_name(raw["unit"]), room_name(raw["room"])
        for f, value in (("building", b), ("unit", u), ("room", r), ("owner_name", raw["owner_name"])):
            if len(value) > MAX_LENGTH[f]:
                fail(f, "too_long", f"“{LABELS[f]}”最多 {MAX_LENGTH[f]} 个字", raw[f])
        phone = phone_number(raw["owner_phone"]) if raw["owner_phone"] else ""
        if phone is None:
            fail(
                "owner_phone",
                "bad_phone",
                "电话号码格式不正确：手机号应为 11 位（1 开头），座机应为区号+号码，如 0571-88886666",
                raw["owner_phone"],
            )
        flags = {}
        for f in OPTIONAL:
            text = raw[f].strip().lower()
            flags[f] = True if text in YES else False if text in NO else None
            if text and flags[f] is None:
                fail(f, "bad_flag", f"“{LABELS[f]}”应填“是”或“否”（也可写 Y/N、1/0），空白按“是”", raw[f])
        occupied = True if flags["occupied"] is None else flags["occupied"]
        resident = occupied if flags["resident"] is None else flags["resident"]
        if resident and not occupied and flags["resident"]:
            fail(
                "resident",
                "resident_not_occupied",
                "未入住的房屋不能是常住户：请把“入住”改为“是”或“常住”改为“否”",
                raw["resident"],
            )
        grid_id = self.grids.get(raw["grid"]) if raw["grid"] else None
        if raw["grid"] and grid_id is None:
            names = "、".join(sorted(self.grids)) or "（本项目尚未设置网格）"
            fail("grid", "unknown_grid", f"网格“{raw['grid']}”不存在，本项目的网格有：{names}", raw["grid"])
        if plan.error_count > before:
            return

        label, key = f"{b}{u}{r}", (b, u, r)
        if len(label) > LABEL_LENGTH:
            return fail("room", "too_long", f"楼栋+单元+房号合计最多 {LABEL_LENGTH} 个字", label)
        if key in self.seen:
            return fail("room", "duplicate_in_file", f"{label} 在文件中重复出现（与第 {self.seen[key]} 行相同）", r)
        self.seen[key] = number
        if key in self.existing:
            return fail("room", "already_exists", f"{label} 已经存在，不能重复导入", r)
        if b in self.buildings and self.buildings[b][1] != grid_id:
            current = next((n for n, g in self.grids.items() if g == self.buildings[b][1]), "")
            return fail(
                "grid", "grid_mismatch", f"{b} 已属于网格“{current}”，与本行的“{raw['grid']}”不一致", raw["grid"]
            )
        first_grid, first_row = self.building_grid.setdefault(b, (raw["grid"], number))
        if first_grid != raw["grid"]:
            return fail(
                "grid",
                "grid_conflict",
                f"同一楼栋只能属于一个网格：{b} 在第 {first_row} 行是“{first_grid}”",
                raw["grid"],
            )

        if b in self.buildings:
            building_id = self.buildings[b][0]
        else:
            new = self.new_buildings.setdefault(
                b, {"id": uuid7(), "estate_id": self.estate_id, "grid_id": grid_id, "name": b}
            )
            building_id = new["id"]
        unit_id = self.units.get((building_id, u))
        if unit_id is None:
            unit_id = self.new_units.setdefault((b, u), {"id": uuid7(), "building_id": building_id, "name": u})["id"]
        plan.households.append(
            {
                "id": uuid7(),
                "unit_id": unit_id,
                "grid_id": grid_id,
                "estate_id": self.estate_id,
                "room": r,
                "label": label,
                "owner_name": raw["owner_name"],
                "owner_phone": phone,
                "occupied": occupied,
                "resident": resident,
            }
        )


async def write(session: AsyncSession, plan: Plan) -> None:
    """Insert a checked plan (the caller commits: one transaction for the whole file)."""
    for model, rows in ((Building, plan.buildings), (Unit, plan.units), (Household, plan.households)):
        if rows:
            await session.execute(insert(model), rows)
