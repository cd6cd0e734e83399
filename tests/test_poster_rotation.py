"""Issue 18 finding 12: a grid's poster token can be rotated. The token mixed only the grid id into
its HMAC, so a leaked poster worked for ever; now a supervisor gives the grid a new poster key and
every earlier poster answers 404."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.progress.tokens import grid_token
from server.sites.models import Grid
from tests.test_progress_support import decode_svg, extract_svgs

pytestmark = pytest.mark.anyio


async def _poster_url(api, grid_id) -> str:
    r = await api.get("supervisor", f"/api/grids/{grid_id}/poster")
    assert r.status_code == 200
    [svg] = extract_svgs(r.text)
    [url], _ = decode_svg(svg)  # what the printed QR says
    return url.split("testserver.local", 1)[1]


async def test_rotating_the_poster_key_voids_every_earlier_poster(api, world, settings, database):
    grid = world.grids[0]
    old = f"/r/{grid_token(settings.secret, grid.id)}"
    assert await _poster_url(api, grid.id) == old  # posters printed before keys existed keep working
    assert (await api.client.get(old)).status_code == 200
    r = await api.post("supervisor", f"/api/grids/{grid.id}/poster/rotate")
    assert r.status_code == 200, r.text
    new = r.json()["url"].split("testserver.local", 1)[1]
    assert new != old and await _poster_url(api, grid.id) == new
    gone = await api.client.get(old)
    assert gone.status_code == 404 and "text/html" in gone.headers["content-type"]
    assert (await api.client.get(new)).status_code == 200
    again = (await api.post("supervisor", f"/api/grids/{grid.id}/poster/rotate")).json()["url"]
    assert (await api.client.get(new)).status_code == 404 and again.split("testserver.local", 1)[1] != new
    async with database.reader() as s:
        other = await s.scalar(select(Grid.poster_key).where(Grid.id == world.grids[1].id))
    assert other == ""  # one grid's rotation leaves the others' posters alone


@pytest.mark.parametrize("key", ["desk", "lead", "steward_a", "tech_a"])
async def test_only_managers_rotate_a_poster(api, world, key):
    r = await api.post(key, f"/api/grids/{world.grids[0].id}/poster/rotate")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
