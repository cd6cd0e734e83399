"""Issue 18 finding 8: the authenticated requests that answered 500 now get a precise 4xx and change
nothing (calendar parameters are bounded to 2000-01-01 … 2100-12-31 in ``server.web.dates``)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from server.accounts.models import Staff
from server.orders.models import Order, SlaPolicy

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "url",
    [
        "/api/kpi?date=9999-12-31",
        "/api/kpi?date=0001-01-01",
        "/api/kpi/csv?date=9999-12-31",
        "/api/kpi/orders?metric=volume&date=0001-01-01",
        "/api/walks/coverage?day=9999-12-31",
        "/api/walks/coverage?day=0001-01-01&period=week",
        "/api/walks/coverage.csv?day=9999-12-31",
        "/api/walks/daily-log?day=9999-12-31",
        "/api/walks?day=0001-01-01",
    ],
)
async def test_a_day_outside_2000_to_2100_is_a_validation_error(api, url):
    r = await api.get("supervisor", url)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] == "validation_error" and "2000-01-01" in body["message"]


@pytest.mark.parametrize("month", ["9999-12", "0001-01", "1999-12", "2101-01"])
async def test_a_scorecard_month_outside_2000_to_2100_is_a_validation_error(api, world, month):
    r = await api.get("supervisor", f"/api/stewards/{world.id('steward_a')}/scorecard?month={month}")
    assert r.status_code == 400 and r.json()["code"] == "validation_error", r.text


async def test_the_bounds_themselves_are_accepted(api, world):
    for url in ("/api/kpi?date=2000-01-01", "/api/kpi?date=2100-12-31", "/api/walks/coverage?day=2100-12-31"):
        assert (await api.get("supervisor", url)).status_code == 200, url
    r = await api.get("supervisor", f"/api/stewards/{world.id('steward_a')}/scorecard?month=2100-12")
    assert r.status_code == 200, r.text


async def _count(database, model) -> int:
    async with database.reader() as s:
        return await s.scalar(select(func.count()).select_from(model))


async def test_unknown_ids_in_a_write_are_404_and_store_nothing(api, world, database):
    unknown = str(uuid.uuid4())
    r = await api.put("admin", f"/api/estates/{unknown}/sla-policy", json={"kind": "repair", "contact_minutes": 5})
    assert (r.status_code, r.json()["code"], r.json()["message"]) == (404, "not_found", "estate not found")
    order = {"kind": "repair", "category": "water_electric", "channel": "phone", "description": "漏水"}
    r = await api.post("admin", "/api/orders", json={**order, "estate_id": unknown})
    assert (r.status_code, r.json()["message"]) == (404, "estate not found"), r.text
    staff = {"name": "新管家", "phone": "13900000066", "role": "steward", "department": "service"}
    r = await api.post("supervisor", "/api/staff", json={**staff, "password": "long-enough-pw", "grid_ids": [unknown]})
    assert (r.status_code, r.json()["message"]) == (404, "grid not found"), r.text
    assert await _count(database, SlaPolicy) == 0 and await _count(database, Order) == 0
    assert await _count(database, Staff) == len(world.staff)
