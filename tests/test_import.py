"""Household import: CSV in every encoding Excel produces, XLSX, a per-row report, all or nothing."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import func, select

from server.admin.household_import import phone_number
from server.sites.models import Building, Household, Unit

pytestmark = pytest.mark.anyio

URL = "/api/admin/import/households"
HEADER = "楼栋,单元,房号,业主姓名,业主电话,网格"


def csv_bytes(*rows: str, header: str = HEADER, encoding: str = "utf-8-sig") -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode(encoding)


async def upload(api, data: bytes, *, key: str = "supervisor", name: str = "业主.csv", **params):
    return await api.post(key, URL, files={"file": (name, data, "text/csv")}, params=params)


async def counts(database) -> tuple[int, int, int]:
    async with database.reader() as session:
        return tuple([await session.scalar(select(func.count()).select_from(m)) for m in (Building, Unit, Household)])


GOOD = ("5,1,101,张伟,13812345678,东区", "5,1,102,李娜,0571-88886666,东区", "5栋,2单元,201室,,,东区")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
async def test_a_csv_creates_buildings_units_and_households(api, world, database, encoding):
    before = await counts(database)
    r = await upload(api, csv_bytes(*GOOD, encoding=encoding))
    assert r.status_code == 201, r.text
    assert r.json() == {"dry_run": False, "imported": 3, "rows": 3, "buildings_created": 1, "units_created": 2}
    assert await counts(database) == (before[0] + 1, before[1] + 2, before[2] + 3)
    found = {h["label"]: h for h in (await api.get("desk", "/api/households", params={"q": "5栋"})).json()}
    assert set(found) == {"5栋1单元101", "5栋1单元102", "5栋2单元201"}
    assert found["5栋1单元101"]["owner_name"] == "张伟" and found["5栋1单元101"]["owner_phone"] == "13812345678"
    assert found["5栋1单元102"]["owner_phone"] == "0571-88886666"
    assert found["5栋2单元201"]["grid_id"] == str(world.grids[0].id)


async def test_english_headers_any_column_order_and_an_existing_building(api, world, database):
    before = await counts(database)
    data = (
        "grid,unit,building,room,owner_name,owner_phone,remark\n"
        "西区,2,2,501,王芳,+86 139 0000 1111,\n"
        "西区,1,2,301,赵强,13900002222,备注\n"
    )
    r = await upload(api, data.encode())
    assert r.status_code == 201, r.text
    assert r.json()["buildings_created"] == 0 and r.json()["units_created"] == 1 and r.json()["imported"] == 2
    assert await counts(database) == (before[0], before[1] + 1, before[2] + 2)
    [h] = (await api.get("desk", "/api/households", params={"q": "2栋2单元501"})).json()
    assert h["owner_phone"] == "13900001111" and h["grid_id"] == str(world.grids[1].id)


async def test_an_xlsx_with_a_title_row_and_numeric_cells_imports(api, world):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["翠湖花园业主信息表"])
    sheet.append(["楼栋", "单元", "房号", "业主姓名", "业主电话", "网格"])
    sheet.append([6, 1, 101, "孙丽", 13811112222, "西区"])
    sheet.append([6, 1, 102, "周杰", 13811113333.0, "西区"])
    sheet.append([None, None, None, None, None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    r = await api.post(
        "supervisor",
        URL,
        files={
            "file": (
                "业主.xlsx",
                buffer.getvalue(),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["imported"] == 2
    phones = {
        h["label"]: h["owner_phone"] for h in (await api.get("desk", "/api/households", params={"q": "6栋"})).json()
    }
    assert phones == {"6栋1单元101": "13811112222", "6栋1单元102": "13811113333"}


async def test_every_bad_row_is_reported_and_nothing_is_imported(api, world, database):
    before = await counts(database)
    data = csv_bytes(
        "7,1,101,张伟,13812345678,东区",  # row 2: fine
        "7,1,,李娜,13812345679,东区",  # row 3: no room
        "7,1,102,王强,12345,东区",  # row 4: bad phone
        "7,1,103,刘洋,13812345670,北区",  # row 5: unknown grid
        "7,1,101,陈静,13812345671,东区",  # row 6: duplicate of row 2
        "1,1,101,杨光,13812345672,东区",  # row 7: exists already
        "1,1,301,黄磊,13812345673,西区",  # row 8: 1栋 is in 东区
        "8,1,101,吴敏,13812345674,东区",  # row 9: fine (first use of 8栋)
        "8,1,102,徐静,13812345675,西区",  # row 10: 8栋 was 东区 in row 9
        ",1,104,,,",  # row 11: building and grid missing
    )
    r = await upload(api, data)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "import_invalid" and "未导入任何数据" in body["message"]
    report = {(e["row"], e["field"], e["code"]) for e in body["details"]["errors"]}
    assert report == {
        (3, "room", "required"),
        (4, "owner_phone", "bad_phone"),
        (5, "grid", "unknown_grid"),
        (6, "room", "duplicate_in_file"),
        (7, "room", "already_exists"),
        (8, "grid", "grid_mismatch"),
        (10, "grid", "grid_conflict"),
        (11, "building", "required"),
        (11, "grid", "required"),
    }
    assert body["details"]["rows"] == 10 and body["details"]["error_count"] == 9
    by_row = {e["row"]: e for e in body["details"]["errors"]}
    assert by_row[3]["column"] == "房号" and by_row[3]["problem"] == "“房号”不能为空"
    assert by_row[4]["value"] == "12345" and "手机号" in by_row[4]["problem"]
    assert "东区" in by_row[5]["problem"] and "第 2 行" in by_row[6]["problem"]
    assert await counts(database) == before


async def test_a_missing_column_is_reported_against_the_header(api, world):
    r = await upload(api, csv_bytes("5,1,101,张伟,13812345678", header="楼栋,单元,房号,业主姓名,业主电话"))
    assert r.status_code == 422
    [error] = r.json()["details"]["errors"]
    assert (error["row"], error["column"], error["code"]) == (1, "网格", "missing_column")


@pytest.mark.parametrize(
    "data,code",
    [
        (b"", "empty_file"),
        (b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "unsupported_format"),
        (b"PK\x03\x04broken", "bad_file"),
        (b"\xff\xfe\x00\xd8", "bad_encoding"),
    ],
)
async def test_unreadable_files_get_one_clear_error(api, world, data, code):
    r = await upload(api, data)
    assert r.status_code == 422 and r.json()["code"] == "import_invalid"
    assert r.json()["details"]["errors"][0]["code"] == code


async def test_dry_run_reports_without_writing(api, world, database):
    before = await counts(database)
    r = await upload(api, csv_bytes(*GOOD), dry_run="1")
    assert r.status_code == 200, r.text
    assert r.json() | {"errors": None} == {
        "dry_run": True,
        "valid": True,
        "rows": 3,
        "households": 3,
        "buildings_created": 1,
        "units_created": 2,
        "errors": None,
        "error_count": 0,
        "truncated": False,
    }
    r = await upload(api, csv_bytes("5,1,101,张伟,123,东区"), dry_run="true")
    assert r.status_code == 200 and r.json()["valid"] is False
    assert [e["code"] for e in r.json()["errors"]] == ["bad_phone"]
    assert await counts(database) == before


async def test_who_may_import_where(api, world):
    data = csv_bytes(*GOOD)
    for key in ("desk", "lead", "steward_a", "tech_a"):
        assert (await upload(api, data, key=key)).status_code == 403
    assert (await upload(api, data, key="other_supervisor", estate_id=str(world.estate.id))).status_code == 404
    r = await upload(api, data, key="admin")
    assert r.status_code == 422 and r.json()["code"] == "estate_required"
    r = await upload(api, data, key="admin", estate_id=str(world.estate.id), dry_run="1")
    assert r.status_code == 200 and r.json()["valid"] is True
    r = await upload(api, csv_bytes("5,1,101,张伟,13812345678,一区"), key="other_supervisor")
    assert r.status_code == 201 and r.json()["imported"] == 1  # 一区 is a grid of 碧水苑, its own estate


@pytest.mark.parametrize(
    "text,stored",
    [
        ("13812345678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("86 138 1234 5678", "13812345678"),
        ("010-12345678", "010-12345678"),
        ("057188886666", "057188886666"),
        ("0755-1234567", "0755-1234567"),
        ("12812345678", None),
        ("1381234567", None),
        ("88886666", None),
        ("138-1234-5678", None),
        ("电话", None),
    ],
)
def test_phone_numbers_are_mainland_mobiles_or_landlines(text, stored):
    assert phone_number(text) == stored


async def test_fifty_thousand_rows_import_in_one_go(api, world, database):
    rows = [
        f"{b},{u},{floor}{flat:02d},业主{b}-{u}-{floor}{flat:02d},13{(b * 10_000 + u * 1_000 + floor * 10 + flat):09d},"
        f"{'东区' if b % 2 else '西区'}"
        for b in range(10, 110)
        for u in (1, 2)
        for floor in range(1, 51)
        for flat in range(1, 6)
    ]
    assert len(rows) == 50_000
    before = await counts(database)
    r = await upload(api, csv_bytes(*rows))
    assert r.status_code == 201, r.text[:2000]
    assert r.json() == {
        "dry_run": False,
        "imported": 50_000,
        "rows": 50_000,
        "buildings_created": 100,
        "units_created": 200,
    }
    assert await counts(database) == (before[0] + 100, before[1] + 200, before[2] + 50_000)
    [h] = (await api.get("desk", "/api/households", params={"q": "109栋2单元5005"})).json()
    assert h["owner_name"] == "业主109-2-5005" and h["grid_id"] == str(world.grids[0].id)


async def test_occupied_and_resident_columns(api, world, database):
    data = csv_bytes(
        "6,1,101,张伟,13812345678,东区,是,是",
        "6,1,102,李娜,13812345679,东区,否,",  # empty: not resident either
        "6,1,201,王强,13812345670,东区,Y,N",  # lived in, not all year
        "6,1,202,刘洋,13812345671,东区,,",  # blank: occupied and resident
        header=HEADER + ",入住,常住",
    )
    r = await upload(api, data)
    assert r.status_code == 201, r.text
    async with database.reader() as session:
        rows = {
            room: (occ, res)
            for room, occ, res in (
                await session.execute(
                    select(Household.room, Household.occupied, Household.resident).where(Household.label.like("6栋%"))
                )
            ).all()
        }
    assert rows == {"101": (True, True), "102": (False, False), "201": (True, False), "202": (True, True)}
    # Without the columns every flat counts as lived in (the rosters imported so far).
    assert (await upload(api, csv_bytes("6,2,101,,,东区"))).status_code == 201


async def test_bad_occupancy_flags_are_reported(api, world, database):
    before = await counts(database)
    data = csv_bytes(
        "6,1,101,张伟,13812345678,东区,也许,是",  # row 2: not a yes/no
        "6,1,102,李娜,13812345679,东区,否,是",  # row 3: resident but empty
        header=HEADER + ",入住,常住",
    )
    r = await upload(api, data)
    assert r.status_code == 422
    report = {(e["row"], e["field"], e["code"]) for e in r.json()["details"]["errors"]}
    assert report == {(2, "occupied", "bad_flag"), (3, "resident", "resident_not_occupied")}
    assert await counts(database) == before
