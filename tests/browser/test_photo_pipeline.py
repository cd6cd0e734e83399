"""The phone's photo pipeline (pwa/src/sync.ts): several photos in flight at once (UPLOAD_PARALLEL),
a dropped chunk resumed where the server says the photo stands, each photo stored exactly once, and
every photo still queued on the phone until the server confirmed its hash."""

from __future__ import annotations

import hashlib

import pytest

from tests.browser.conftest import ARTIFACTS, wait_for
from tests.browser.test_pwa import accept_signed_in, add_step, new_order, order_detail, photos

pytestmark = pytest.mark.browser

# Wraps fetch before the app loads: counts blob PUTs in flight, drops the connection of the first
# non-final chunk (as a train tunnel would), notes the photo's state on the phone as its finishing
# chunk leaves, and logs each blob request.
WATCH_UPLOADS = """(() => {
  const real = window.fetch.bind(window);
  const w = (window.__uploads = { inFlight: 0, max: 0, dropped: null, log: [], statesAtFinish: [] });
  const held = [];
  const stateOf = (sha) => new Promise((ok) => {
    const open = indexedDB.open("wuye-field");
    open.onsuccess = () => {
      const r = open.result.transaction("photos").objectStore("photos").get(sha);
      r.onsuccess = () => { ok(r.result && r.result.state); open.result.close(); };
    };
  });
  window.fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    if (!url.includes("/sync/blobs/")) return real(input, init);
    const method = (init && init.method) || "GET";
    const sha = url.split("/sync/blobs/")[1].split("?")[0];
    w.log.push(method + " " + url.split("/sync/blobs/")[1]);
    if (method !== "PUT") return real(input, init);
    if (url.includes("finish=true")) w.statesAtFinish.push(await stateOf(sha));
    else if (!w.dropped) { w.dropped = url; throw new TypeError("Failed to fetch"); }
    w.inFlight++; w.max = Math.max(w.max, w.inFlight);
    // Each PUT is held until three are in flight (or 1 s passes, for the tail), so the peak seen
    // is what the phone attempts, not how fast loopback answered the one before.
    await new Promise((go) => {
      held.push(go);
      if (w.inFlight >= 3) held.splice(0).forEach((g) => g());
      else setTimeout(go, 1000);
    });
    try { return await real(input, init); } finally { w.inFlight--; }
  };
})()"""


def test_photos_go_up_three_at_a_time_resume_a_dropped_chunk_and_arrive_once(chromium, server, tmp_path):
    order = new_order(server, "外墙渗水，多处拍照")
    context = chromium.new_context(viewport={"width": 390, "height": 844}, has_touch=True, service_workers="block")
    context.add_init_script(WATCH_UPLOADS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    accept_signed_in(page, server, order)
    add_step(page, "外墙六处渗水点", photos(tmp_path, 6, size=(3000, 2250)))

    detail = wait_for(
        lambda: (
            (d := order_detail(server, order["id"]))["timeline"]["steps"]
            and all(p["uploaded"] for p in d["timeline"]["steps"][0]["photos"])
            and d
        ),
        60,
    )
    uploads = page.evaluate("window.__uploads")
    shas = [p["sha256"] for p in detail["timeline"]["steps"][0]["photos"]]
    assert len(set(shas)) == 6
    for sha in shas:  # each stored once, whole, under its own hash
        [stored] = list((server.data_dir / "photos" / "blobs").rglob(sha))
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == sha
    assert uploads["max"] == 3, uploads  # UPLOAD_PARALLEL, never more
    # The dropped chunk was resumed in the same sync: the photo's status asked again, the upload
    # continued from the server's offset, and no sync error reached the screen.
    dropped = uploads["dropped"].split("/sync/blobs/")[1]  # "<sha>?offset=<n>"
    sha = dropped.split("?")[0]
    after = uploads["log"][uploads["log"].index("PUT " + dropped) + 1 :]
    assert "GET " + sha in after
    assert "PUT " + dropped in after[after.index("GET " + sha) :]  # that chunk again, from the same offset
    assert uploads["statesAtFinish"] == ["pending"] * 6  # queued on the phone until confirmed
    page.goto(f"{server.base_url}/app/#/sync")
    wait_for(lambda: page.text_content("[data-test=pending-photos]") == "0", 20)
    states = page.evaluate("""() => new Promise((ok) => { const o = indexedDB.open("wuye-field");
        o.onsuccess = () => { const r = o.result.transaction("photos").objectStore("photos").getAll();
        r.onsuccess = () => ok(r.result.map((p) => p.state)); }; })""")
    assert sorted(states) == ["uploaded"] * 6
    page.screenshot(path=str(ARTIFACTS / "photo-pipeline-sync-390.png"))
    assert errors == []
    context.close()
