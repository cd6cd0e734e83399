"""One tablet, two stewards (issue 19; DESIGN §7): the roving post's tablet passes from 张管家 to
李管家 and back. (The demo world's 张丽 and 李娜 are the test world's 张管家 and 李管家.)

张 works offline and signs out: her work is sealed for her and the sign-in screen says so. 李 signs
in on the same tablet, sees none of 张's replica, works and syncs; nothing 张 did travels under 李's
token. 张 signs in later: her work arrives under her name, exactly once, and she sees none of 李's.
"""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import ARTIFACTS, wait_for
from tests.browser.test_walks import as_staff, idb_count, login
from tests.support.world import PASSWORD

pytestmark = pytest.mark.browser


def idb_all(page, store: str) -> list[dict]:
    return page.evaluate(
        """(store) => new Promise((ok, fail) => {
            const r = indexedDB.open('wuye-field');
            r.onsuccess = () => {
              const q = r.result.transaction(store).objectStore(store).getAll();
              q.onsuccess = () => ok(q.result);
              q.onerror = () => fail(q.error);
            };
        })""",
        store,
    )


def walks_of(server, steward: str) -> list[dict]:
    with as_staff(server, "supervisor") as c:
        r = c.get("/api/walks/", params={"steward_id": str(server.world.id(steward))})
        assert r.status_code == 200, r.text
        return r.json()


def walk_once(page) -> None:
    page.goto(page.url.split("#")[0] + "#/walks")
    page.wait_for_selector("button[data-action=start-walk]:not([disabled])")
    page.click("button[data-action=start-walk]")
    page.wait_for_selector("button[data-action=end-walk]")
    page.click("button[data-action=end-walk]")
    page.click("button[data-action=confirm-end]")
    page.wait_for_selector(".walk .kind.k-ended")


def sign_out(page) -> None:
    page.goto(page.url.split("#")[0] + "#/settings")
    page.click("button.danger.big")
    page.wait_for_selector("form.login")


def replica_grids(page) -> set[str]:
    """Every grid the replicated walk tables name on this tablet."""
    rows = idb_all(page, "checkpoints") + idb_all(page, "walks") + idb_all(page, "findings")
    return {r["grid_id"] for r in rows}


def test_one_tablet_two_stewards_nothing_misattributed_nothing_seen(browser_context, server):
    world = server.world
    zhang, li = str(world.id("steward_a")), str(world.id("steward_b"))
    grid_zhang, grid_li = str(world.grids[0].id), str(world.grids[1].id)
    context, page, errors = browser_context
    page.on("dialog", lambda d: d.accept())
    pushed: list[tuple[str, list[str]]] = []  # (token, authors) of every push that left the tablet
    tokens: dict[str, str] = {}

    def on_request(request):
        if request.url.endswith("/sync/push") and request.method == "POST":
            body = json.loads(request.post_data or "{}")
            pushed.append((request.headers.get("authorization", ""), [m.get("author") for m in body["mutations"]]))

    def on_response(response):
        if response.url.endswith("/api/auth/login") and response.ok:
            body = response.json()
            tokens[f"Bearer {body['token']}"] = body["staff"]["id"]

    page.on("request", on_request)
    page.on("response", on_response)

    # 张 signs in, gets her grid's checkpoints, then works offline and signs out.
    login(page, server, "steward_a")
    wait_for(lambda: idb_count(page, "checkpoints") == 3, 40)
    assert replica_grids(page) == {grid_zhang}
    context.set_offline(True)
    walk_once(page)
    assert idb_count(page, "outbox") == 2  # walk.start, walk.end
    sign_out(page)
    page.wait_for_selector("[data-test=sealed]")
    assert "张管家 有 2 条记录待同步" in page.inner_text("[data-test=sealed]")
    page.screenshot(path=str(ARTIFACTS / "shared-device-sealed.png"))
    page.set_viewport_size({"width": 360, "height": 640})
    page.screenshot(path=str(ARTIFACTS / "shared-device-sealed-360.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    assert idb_count(page, "outbox") == 0 and idb_count(page, "sealed") == 2
    assert walks_of(server, "steward_a") == []  # nothing left the tablet

    # 李 signs in on the same tablet, online: none of 张's replica, none of her work sent.
    context.set_offline(False)
    login(page, server, "steward_b")
    wait_for(lambda: idb_count(page, "checkpoints") == 1, 40)
    assert replica_grids(page) == {grid_li}
    assert idb_count(page, "outbox") == 0 and idb_count(page, "sealed") == 2
    walk_once(page)
    wait_for(lambda: len(walks_of(server, "steward_b")) == 1, 40)
    wait_for(lambda: idb_count(page, "outbox") == 0, 40)
    assert replica_grids(page) == {grid_li}
    assert walks_of(server, "steward_a") == []
    sign_out(page)
    assert "张管家 有 2 条记录待同步" in page.inner_text("[data-test=sealed]")

    # 张 signs in later: her sealed work goes out under her own token, once; 李's replica is gone.
    login(page, server, "steward_a")
    wait_for(lambda: len(walks_of(server, "steward_a")) == 1, 40)
    wait_for(lambda: idb_count(page, "outbox") == 0 and idb_count(page, "sealed") == 0, 40)
    [walk] = walks_of(server, "steward_a")
    assert walk["steward_name"] == "张管家" and walk["status"] == "ended"
    assert len(walks_of(server, "steward_b")) == 1
    wait_for(lambda: idb_count(page, "walks") >= 1, 40)
    assert replica_grids(page) == {grid_zhang}
    assert all(w["steward_id"] == zhang for w in idb_all(page, "walks"))
    page.goto(f"{server.base_url}/app/#/sync")
    page.wait_for_function("() => document.querySelector('[data-test=pending-mutations]')?.textContent === '0'")
    page.screenshot(path=str(ARTIFACTS / "shared-device-back.png"))

    # Every push carried only its signed-in person's work.
    assert pushed, "nothing was pushed"
    for token, authors in pushed:
        assert set(authors) == {tokens[token]}, (tokens[token], authors)
    assert {tokens[t] for t, _ in pushed} == {zhang, li}
    assert errors == []


def test_a_supervisor_hands_over_a_departed_persons_sealed_work_with_its_author_kept(browser_context, server, tmp_path):
    world = server.world
    zhang = str(world.id("steward_a"))
    context, page, errors = browser_context
    page.on("dialog", lambda d: d.accept())
    login(page, server, "steward_a")
    wait_for(lambda: idb_count(page, "checkpoints") == 3, 40)
    context.set_offline(True)
    walk_once(page)
    sign_out(page)
    before = len(walks_of(server, "steward_a"))
    [sealed_walk] = [s["entry"]["args"]["id"] for s in idb_all(page, "sealed") if s["entry"]["name"] == "walk.start"]

    # The supervisor signs in on the tablet: the sealed work is neither sent nor shown as hers.
    context.set_offline(False)
    page.fill("input[name=phone]", world.phone("supervisor"))
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("form.login", state="detached")
    page.goto(f"{server.base_url}/app/#/settings")
    page.wait_for_selector("[data-test=handover]")
    assert "张管家 有 2 条记录待同步" in page.inner_text("[data-test=handover]")
    assert idb_count(page, "outbox") == 0
    assert sealed_walk not in {w["id"] for w in idb_all(page, "walks")}  # her unsent walk is nobody's replica
    page.screenshot(path=str(ARTIFACTS / "shared-device-handover.png"), full_page=True)
    with page.expect_download() as caught:
        page.click("[data-test=handover] button")
    handed = json.loads(caught.value.path().read_text())
    assert handed["author"]["id"] == zhang and handed["author"]["name"] == "张管家"
    assert handed["handed_over_by"]["id"] == str(world.id("supervisor"))
    assert [m["name"] for m in handed["outbox"]] == ["walk.start", "walk.end"]
    assert {m["author"] for m in handed["outbox"]} == {zhang}
    wait_for(lambda: idb_count(page, "sealed") == 0)
    page.wait_for_selector("[data-test=handover]", state="detached")
    assert len(walks_of(server, "steward_a")) == before  # never sent under anyone's name
    assert errors == []
