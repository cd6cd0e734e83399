"""GET /api/photos/{sha}/{size}: staff see the photos of the records they can see, and no others.

The photo of a step is visible to whoever can see its order (the assignee, the estate's desk and
supervisors, the steward of its grid); the photo of a finding to whoever reads its grid. Everyone
else, and every photo nobody visible references, gets the same 404 as a hash that does not exist."""

from __future__ import annotations

import io
import uuid

import pytest
from PIL import Image

from tests.support.camera_jpegs import camera_jpeg
from tests.test_progress_support import act, on_site_order, step, store_photo
from tests.walks_support import Device, answers, iso, visit_args

pytestmark = pytest.mark.anyio

SEE_STEP = ("tech_a", "desk", "lead", "supervisor", "admin", "steward_a")
NOT_STEP = ("tech_b", "cleaner", "steward_b", "other_supervisor", "other_steward")


def url(sha: str, size: str = "thumb") -> str:
    return f"/api/photos/{sha}/{size}"


async def code_of(api, key: str, sha: str, size: str = "thumb") -> tuple[int, str | None]:
    r = await api.get(key, url(sha, size))
    return r.status_code, (r.json().get("code") if r.status_code >= 400 else None)


@pytest.fixture
async def step_photo(api, world, app, database, clock) -> tuple[str, str]:
    """(order id, sha) of a photo on a step of an order assigned to tech_a, in grid 0 (steward_a)."""
    oid = await on_site_order(api, world)
    sha = await store_photo(app, database, camera_jpeg((1200, 900), 3), clock.now())
    await step(api, oid, "拆开检查", at=clock.now(), photos=[sha])
    return oid, sha


async def test_a_step_photo_is_shown_to_those_who_see_its_order(api, step_photo):
    _, sha = step_photo
    for key in SEE_STEP:
        r = await api.get(key, url(sha))
        assert r.status_code == 200, (key, r.text)
        assert r.headers["content-type"] == "image/jpeg"
        assert r.headers["cache-control"] == "private, max-age=31536000, immutable"
        image = Image.open(io.BytesIO(r.content))
        assert max(image.size) == 480 and not image.getexif()  # the derivative, not the original
    view = await api.get("desk", url(sha, "view"))
    assert view.status_code == 200 and max(Image.open(io.BytesIO(view.content)).size) == 1200  # never enlarged


async def test_no_one_else_can_reach_it_by_its_hash(api, step_photo):
    _, sha = step_photo
    for key in NOT_STEP:
        assert await code_of(api, key, sha) == (404, "not_found"), key
    assert (await api.client.get(url(sha))).status_code == 401  # no sign-in at all


async def test_a_photo_follows_its_order_when_it_is_reassigned(api, world, step_photo):
    oid, sha = step_photo
    await act(api, "lead", oid, "reassign", assignee_id=str(world.id("tech_b")))
    assert await code_of(api, "tech_a", sha) == (404, "not_found")
    assert (await api.get("tech_b", url(sha))).status_code == 200


async def test_unreferenced_missing_and_malformed(api, app, database, clock, step_photo):
    _, sha = step_photo
    loose = await store_photo(app, database, camera_jpeg((300, 200), 4), clock.now())  # on no record
    assert await code_of(api, "admin", loose) == (404, "not_found")
    assert await code_of(api, "admin", "0" * 64) == (404, "not_found")
    assert await code_of(api, "admin", "ABC") == (400, "invalid_hash")
    assert await code_of(api, "admin", sha, "original") == (400, "invalid_size")


async def test_a_photo_still_on_the_phone_is_pending_only_for_those_who_may_see_it(api, world, clock):
    oid = await on_site_order(api, world)
    queued = "ab" * 32  # referenced by the step, never uploaded
    await step(api, oid, "照片还在手机上", at=clock.now(), photos=[queued])
    assert await code_of(api, "tech_a", queued) == (404, "photo_pending")
    assert await code_of(api, "tech_b", queued) == (404, "not_found")


async def test_revalidation_answers_304(api, step_photo):
    _, sha = step_photo
    first = await api.get("tech_a", url(sha))
    again = await api.get("tech_a", url(sha), headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


async def test_finding_and_checkpoint_visit_photos_are_shown_to_readers_of_their_grid(api, world, app, database, clock):
    found = await store_photo(app, database, camera_jpeg((640, 480), 5), clock.now())
    checked = await store_photo(app, database, camera_jpeg((640, 480), 6), clock.now())
    dev = Device(api, "steward_a")
    walk = {"id": str(uuid.uuid4()), "grid_id": str(world.grids[0].id), "started_at": iso(clock.now())}
    finding = {
        "id": str(uuid.uuid4()),
        "walk_id": walk["id"],
        "grid_id": str(world.grids[0].id),
        "category": "facilities",
        "note": "",
        "photos": [found],
        "location": {"text": "1栋北侧快递柜"},
        "captured_at": iso(clock.now()),
    }
    checkpoint = world.checkpoints[0]  # on a route of grid 0
    first, *rest = answers(checkpoint)
    visit = visit_args(walk["id"], checkpoint, clock.now(), answers=[{**first, "photos": [checked]}, *rest])
    results = await dev.push(
        dev.mutation("walk.start", walk),
        dev.mutation("walk.finding.add", finding),
        dev.mutation("walk.checkpoint.visit", visit),
    )
    assert [r["status"] for r in results] == ["applied"] * 3, results
    for sha in (found, checked):
        for key in ("steward_a", "supervisor", "desk"):
            assert (await api.get(key, url(sha))).status_code == 200, (key, sha)
        for key in ("steward_b", "tech_a", "other_supervisor", "other_steward"):
            assert await code_of(api, key, sha) == (404, "not_found"), (key, sha)
