"""An admin sees every estate of his own company and nothing of another company's.

The world's second estate is moved to a company of its own, with its staff: then an estate id of it
is answered 404 by every read that takes ``?estate_id=``, and its orders are in no list of ours.
"""

from __future__ import annotations

import pytest
from sqlalchemy import update

from server.accounts.models import Staff
from server.sites.models import Company, Estate
from tests.support.orders import create_order

pytestmark = pytest.mark.anyio


@pytest.fixture
async def foreign(world, database):
    """The other estate, now of another company, with one open order; its id."""
    async with database.writer() as s:
        company = Company(name="别家物业")
        s.add(company)
        await s.flush()
        await s.execute(update(Estate).where(Estate.id == world.other_estate.id).values(company_id=company.id))
        await s.execute(update(Staff).where(Staff.estate_id == world.other_estate.id).values(company_id=company.id))
        await s.commit()
    return world.other_estate.id


async def test_an_admin_cannot_read_another_companys_estate(api, world, foreign):
    oid = await create_order(api, world, key="other_supervisor", label="9栋1单元101")
    for url in (
        f"/api/board/?estate_id={foreign}",
        f"/api/kpi/?estate_id={foreign}",
        f"/api/kpi/orders?estate_id={foreign}&metric=volume&outcome=all",
        f"/api/routing/?estate_id={foreign}",
        f"/api/estates/{foreign}/sla-policy",
    ):
        r = await api.get("admin", url)
        assert (r.status_code, r.json()["code"]) == (404, "not_found"), (url, r.text)
    # The same reads of his own company's estate answer.
    assert (await api.get("admin", f"/api/board/?estate_id={world.estate.id}")).status_code == 200
    listed = (await api.get("admin", "/api/orders/")).json()
    assert oid not in {o["id"] for o in listed}
    assert (await api.get("admin", f"/api/orders/{oid}")).status_code == 404
