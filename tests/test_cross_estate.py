"""Issue 18 finding 1: no write endpoint stores an id of another estate.

The write endpoints are read from the app's route table, so a new one fails the test until it gets
a probe here (or an entry in ``NO_ESTATE_IDS`` saying why it carries none). Each probe sends ids
of the *other* estate (or of its records) and expects the one rule of :mod:`server.accounts.guard`:
**404 ``not_found``**, as if the id did not exist, and not one row changed in any table. For
``/sync/push`` the mutation is rejected ``not_found`` and only the device's sync bookkeeping moves.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from server.clock import CHINA
from server.db.base import Base
from server.push.models import PushSubscription
from server.sites.models import Unit
from tests.support.orders import create_order
from tests.walks_support import Device, iso

pytestmark = pytest.mark.anyio

READ_METHODS = {"GET", "HEAD", "OPTIONS"}


def write_routes(app) -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for route in app.routes
        for method in getattr(route, "route_handler_map", {})
        if method not in READ_METHODS
    }


# Write endpoints whose request carries no id of an estate, grid, building, unit, household or staff
# member (or of a record that lives in one), with the reason.
NO_ESTATE_IDS = {
    ("POST", "/api/auth/login"): "a phone and a password",
    ("POST", "/api/auth/logout"): "acts on the caller's own token",
    ("POST", "/api/auth/password"): "the caller's own account",
    ("PUT", "/sync/blobs/{sha:str}"): "content-addressed bytes; photos reach records only through mutations",
    ("POST", "/sync/blobs/{sha:str}/finish"): "content-addressed bytes; photos reach records only through mutations",
    ("POST", "/api/push/subscriptions"): "registers the caller's own device",
    ("POST", "/api/push/webhooks"): "the webhook belongs to the caller's own estate; no estate id is accepted",
    ("POST", "/api/board/ticket"): "signs the caller's own scope",
    ("POST", "/sync/ticket"): "signs the caller's own session (the device stream reads its own scope)",
    ("POST", "/p/{token:str}/rating"): "the progress token is the capability; it names one order",
    ("POST", "/p/{token:str}/sms"): "the progress token is the capability; it names one order and its owner's phone",
    ("POST", "/r/{grid:str}"): "the poster token names the grid; the form names rooms inside it",
}


@dataclass
class Probe:
    key: str  # who sends it
    method: str
    url: str
    json: dict | None = None
    files: dict | None = None
    mutations: list[tuple[str, dict]] = field(default_factory=list)  # /sync/push only


@dataclass
class Other:
    """Records of the other estate (and one own order) the probes point at."""

    order: str
    own_order: str
    answer: str
    own_answer: str
    proposal: str
    route: str
    checkpoint: str
    subscription: str
    bulletin: str
    own_bulletin: str


BULLETIN_WEEK = "2026-11-16"  # the Monday of the test clock's week
HOURS = {"opens": "08:30", "closes": "17:30", "workdays": "12345", "accept_minutes": 10}
ANSWER = {"category": "fees", "question": "物业费多少钱一平？", "answer": "2.80元/平方米·月。"}


def probes(w, o: Other) -> dict[tuple[str, str], list[Probe]]:
    other_grid, other_estate = str(w.other_grid.id), str(w.other_estate.id)
    own_household = str(w.households["1栋1单元101"].id)
    other_household = str(w.households["9栋1单元101"].id)
    other_steward = str(w.id("other_steward"))
    phones = iter(range(13900000070, 13900000080))

    def staff(**over) -> dict:
        body = {"name": "新管家", "role": "steward", "department": "service", "password": "long-enough-password"}
        return {**body, "phone": str(next(phones)), **over}

    order = {"kind": "repair", "category": "water_electric", "channel": "phone", "description": "漏水"}
    now = iso(w.clock.now())
    own_estate, today = str(w.estate.id), w.clock.now().astimezone(CHINA).date().isoformat()
    return {
        ("POST", "/api/staff"): [
            Probe("supervisor", "POST", "/api/staff", staff(grid_ids=[other_grid])),
            Probe("supervisor", "POST", "/api/staff", staff(estate_id=other_estate)),
            Probe("admin", "POST", "/api/staff", staff(estate_id=str(w.estate.id), grid_ids=[other_grid])),
            Probe("admin", "POST", "/api/staff", staff(estate_id=str(uuid.uuid4()))),
        ],
        ("POST", "/api/staff/{staff_id:uuid}/password"): [
            Probe("supervisor", "POST", f"/api/staff/{other_steward}/password", {"new_password": "x" * 12}),
        ],
        ("POST", "/api/orders"): [
            Probe("desk", "POST", "/api/orders", {**order, "household_id": other_household}),
            Probe("desk", "POST", "/api/orders", {**order, "estate_id": other_estate}),
            Probe("desk", "POST", "/api/orders", {**order, "household_id": own_household, "estate_id": other_estate}),
            Probe(
                "desk", "POST", "/api/orders", {**order, "household_id": own_household, "assignee_id": other_steward}
            ),
        ],
        ("POST", "/api/orders/{order_id:uuid}/actions/{action:str}"): [
            Probe("desk", "POST", f"/api/orders/{o.order}/actions/cancel", {"note": "x"}),
            Probe("desk", "POST", f"/api/orders/{o.own_order}/actions/dispatch", {"assignee_id": other_steward}),
        ],
        ("POST", "/api/orders/{order_id:uuid}/steps"): [
            Probe("supervisor", "POST", f"/api/orders/{o.order}/steps", {"note": "x", "captured_at": now}),
        ],
        ("POST", "/api/orders/{order_id:uuid}/eta"): [
            Probe("supervisor", "POST", f"/api/orders/{o.order}/eta", {"eta": iso(w.clock.now() + timedelta(hours=1))}),
        ],
        ("POST", "/api/orders/{order_id:uuid}/note"): [
            Probe("supervisor", "POST", f"/api/orders/{o.order}/note", {"internal_note": "x"}),
        ],
        ("POST", "/api/orders/{order_id:uuid}/rating"): [
            Probe("supervisor", "POST", f"/api/orders/{o.order}/rating", {"level": "satisfied"}),
        ],
        ("POST", "/api/orders/{order_id:uuid}/callbacks"): [
            Probe("supervisor", "POST", f"/api/orders/{o.order}/callbacks", {"result": "unreachable"}),
        ],
        ("PUT", "/api/orders/{order_id:uuid}/progress-link"): [
            Probe("supervisor", "PUT", f"/api/orders/{o.order}/progress-link"),
        ],
        ("POST", "/api/orders/{order_id:uuid}/progress-link"): [
            Probe("supervisor", "POST", f"/api/orders/{o.order}/progress-link"),
        ],
        ("DELETE", "/api/orders/{order_id:uuid}/progress-link"): [
            Probe("supervisor", "DELETE", f"/api/orders/{o.order}/progress-link"),
        ],
        ("PUT", "/api/estates/{estate_id:uuid}/sla-policy"): [
            Probe(
                "supervisor", "PUT", f"/api/estates/{other_estate}/sla-policy", {"kind": "repair", "contact_minutes": 5}
            ),
            Probe("admin", "PUT", f"/api/estates/{uuid.uuid4()}/sla-policy", {"kind": "repair", "contact_minutes": 5}),
        ],
        ("PUT", "/api/notify/{estate_id:uuid}/policy"): [
            Probe("supervisor", "PUT", f"/api/notify/{other_estate}/policy", {"owner": {"accepted": True}}),
            Probe("admin", "PUT", f"/api/notify/{uuid.uuid4()}/policy", {"owner": {"accepted": True}}),
        ],
        ("PUT", "/api/estates/{estate_id:uuid}/response-baseline"): [
            Probe(
                "supervisor",
                "PUT",
                f"/api/estates/{other_estate}/response-baseline",
                {"from": "2026-10-01", "to": "2026-10-31"},
            ),
            Probe(
                "admin",
                "PUT",
                f"/api/estates/{uuid.uuid4()}/response-baseline",
                {"from": "2026-10-01", "to": "2026-10-31"},
            ),
        ],
        ("PUT", "/api/estates/{estate_id:uuid}/settings"): [
            Probe("supervisor", "PUT", f"/api/estates/{other_estate}/settings", {"hotline": "0571-12345678"}),
            Probe("admin", "PUT", f"/api/estates/{uuid.uuid4()}/settings", {"hotline": "0571-12345678"}),
        ],
        ("PUT", "/api/estates/{estate_id:uuid}/office-hours"): [
            Probe("supervisor", "PUT", f"/api/estates/{other_estate}/office-hours", HOURS),
            Probe("lead", "PUT", f"/api/estates/{other_estate}/office-hours", HOURS),
            Probe("admin", "PUT", f"/api/estates/{uuid.uuid4()}/office-hours", HOURS),
        ],
        ("PUT", "/api/estates/{estate_id:uuid}/duty/{day:str}/{shift:str}"): [
            Probe("supervisor", "PUT", f"/api/estates/{other_estate}/duty/{today}/night", {"staff_ids": []}),
            Probe("lead", "PUT", f"/api/estates/{own_estate}/duty/{today}/night", {"staff_ids": [other_steward]}),
            Probe(
                "supervisor",
                "PUT",
                f"/api/estates/{own_estate}/duty/{today}/night",
                {"staff_ids": [str(w.id("tech_a")), other_steward]},
            ),
        ],
        ("PUT", "/api/routing/{category:str}"): [
            Probe("supervisor", "PUT", f"/api/routing/cleaning?estate_id={other_estate}", {"department": "cleaning"}),
            Probe("supervisor", "PUT", "/api/routing/cleaning", {"handler_id": str(w.id("other_supervisor"))}),
        ],
        ("POST", "/sync/push"): [
            Probe(
                "steward_a",
                "POST",
                "/sync/push",
                mutations=[
                    ("walk.start", {"id": str(uuid.uuid4()), "grid_id": other_grid, "started_at": now}),
                    *(
                        (
                            "walk.finding.add",
                            {
                                "id": str(uuid.uuid4()),
                                "grid_id": str(w.grids[0].id),
                                "category": "facilities",
                                "note": "门锁坏了",
                                "captured_at": now,
                                "location": location,
                            },
                        )
                        for location in w.other_locations
                    ),
                ],
            ),
            Probe("tech_a", "POST", "/sync/push", mutations=[("order.accept", {"order_id": o.order})]),
            Probe(
                "supervisor",
                "POST",
                "/sync/push",
                mutations=[("order.callback", {"order_id": o.order, "result": "reached_unsatisfied"})],
            ),
        ],
        ("DELETE", "/api/push/subscriptions/{sub_id:uuid}"): [
            Probe("supervisor", "DELETE", f"/api/push/subscriptions/{o.subscription}"),
        ],
        ("POST", "/api/answers"): [
            Probe("supervisor", "POST", "/api/answers", {**ANSWER, "estate_id": other_estate}),
        ],
        ("PUT", "/api/answers/{answer_id:uuid}"): [
            Probe("supervisor", "PUT", f"/api/answers/{o.answer}", ANSWER),
            Probe("supervisor", "PUT", f"/api/answers/{o.own_answer}", {**ANSWER, "estate_id": other_estate}),
        ],
        ("DELETE", "/api/answers/{answer_id:uuid}"): [
            Probe("supervisor", "DELETE", f"/api/answers/{o.answer}"),
        ],
        ("POST", "/api/answers/proposals"): [
            Probe("desk", "POST", "/api/answers/proposals", {**ANSWER, "replaces_id": o.answer}),
        ],
        ("POST", "/api/answers/proposals/{answer_id:uuid}/approve"): [
            Probe("supervisor", "POST", f"/api/answers/proposals/{o.proposal}/approve"),
        ],
        ("POST", "/api/answers/proposals/{answer_id:uuid}/reject"): [
            Probe("supervisor", "POST", f"/api/answers/proposals/{o.proposal}/reject", {"reason": "不合适"}),
        ],
        ("POST", "/api/admin/import/households"): [
            Probe(
                "supervisor",
                "POST",
                f"/api/admin/import/households?estate_id={other_estate}",
                files={"file": ("h.csv", "楼栋,单元,房号,网格\n9,1,301,一区\n".encode(), "text/csv")},
            ),
        ],
        ("POST", "/api/grids/{grid_id:uuid}/poster/rotate"): [
            Probe("supervisor", "POST", f"/api/grids/{other_grid}/poster/rotate"),
        ],
        ("POST", "/api/bulletins"): [
            Probe("lead", "POST", "/api/bulletins", {"week_start": BULLETIN_WEEK, "estate_id": other_estate}),
            Probe("admin", "POST", "/api/bulletins", {"week_start": BULLETIN_WEEK, "estate_id": str(uuid.uuid4())}),
        ],
        ("PUT", "/api/bulletins/{bulletin_id:uuid}"): [
            Probe("lead", "PUT", f"/api/bulletins/{o.bulletin}", {"note": "x"}),
            Probe("lead", "PUT", f"/api/bulletins/{o.own_bulletin}", {"highlights": [{"order_id": o.order}]}),
        ],
        ("POST", "/api/bulletins/{bulletin_id:uuid}/publish"): [
            Probe("supervisor", "POST", f"/api/bulletins/{o.bulletin}/publish"),
        ],
        ("POST", "/api/bulletins/{bulletin_id:uuid}/withdraw"): [
            Probe("supervisor", "POST", f"/api/bulletins/{o.bulletin}/withdraw"),
        ],
        ("POST", "/api/bulletins/{bulletin_id:uuid}/new-link"): [
            Probe("lead", "POST", f"/api/bulletins/{o.bulletin}/new-link"),
        ],
        ("POST", "/api/walks/routes"): [
            Probe("supervisor", "POST", "/api/walks/routes", {"grid_id": other_grid, "name": "夜巡"}),
        ],
        ("POST", "/api/walks/checkpoints"): [
            Probe(
                "supervisor",
                "POST",
                "/api/walks/checkpoints",
                {"route_id": o.route, "name": "大门", "frequency": {"kind": "daily"}},
            ),
        ],
        ("PATCH", "/api/walks/checkpoints/{checkpoint_id:uuid}"): [
            Probe("supervisor", "PATCH", f"/api/walks/checkpoints/{o.checkpoint}", {"name": "改名"}),
        ],
    }


async def _counts(database) -> dict[str, int]:
    async with database.reader() as s:
        return {t.name: await s.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


# What a rejected mutation may write: the device's counter and the receipt that answers a resend.
SYNC_BOOKKEEPING = {"sync_devices", "sync_receipts"}


async def _setup(api, w, database, clock) -> Other:
    other_order = await create_order(api, w, "other_supervisor", "9栋1单元101")
    own_order = await create_order(api, w, "desk")
    answer = await api.post("other_supervisor", "/api/answers", json=ANSWER)
    own_answer = await api.post("supervisor", "/api/answers", json=ANSWER)
    proposal = await api.post("other_steward", "/api/answers/proposals", json=ANSWER)
    route = await api.post("other_supervisor", "/api/walks/routes", json={"grid_id": str(w.other_grid.id), "name": "r"})
    cp = await api.post(
        "other_supervisor",
        "/api/walks/checkpoints",
        json={"route_id": route.json()["id"], "name": "c", "frequency": {"kind": "daily"}},
    )
    bulletin = await api.post("other_supervisor", "/api/bulletins", json={"week_start": BULLETIN_WEEK})
    own_bulletin = await api.post("lead", "/api/bulletins", json={"week_start": BULLETIN_WEEK})
    for r in (answer, own_answer, proposal, route, cp, bulletin, own_bulletin):
        assert r.status_code == 201, r.text
    async with database.writer() as s:
        sub = PushSubscription(
            staff_id=w.id("other_supervisor"),
            endpoint="https://push.example/other",
            p256dh="k",
            auth="a",
            created_at=clock.now(),
            last_success_at=None,
            last_failure_at=None,
        )
        s.add(sub)
        await s.flush()
        sub_id = str(sub.id)
        await s.commit()
    return Other(
        order=other_order,
        own_order=own_order,
        answer=answer.json()["id"],
        own_answer=own_answer.json()["id"],
        proposal=proposal.json()["id"],
        route=route.json()["id"],
        checkpoint=cp.json()["id"],
        subscription=sub_id,
        bulletin=bulletin.json()["id"],
        own_bulletin=own_bulletin.json()["id"],
    )


async def test_every_write_endpoint_refuses_ids_of_another_estate_and_stores_nothing(api, world, database, clock):
    w = world
    w.clock = clock
    b = next(h for label, h in w.households.items() if label.startswith("9栋"))
    async with database.reader() as s:
        unit = await s.get(Unit, b.unit_id)
    w.other_locations = [{"building_id": str(unit.building_id)}, {"unit_id": str(unit.id)}, {"household_id": str(b.id)}]
    other = await _setup(api, w, database, clock)
    table = probes(w, other)
    routes = write_routes(api.client.app)
    assert not set(table) & set(NO_ESTATE_IDS)
    assert routes - set(table) - set(NO_ESTATE_IDS) == set(), "a write endpoint without a cross-estate probe"
    assert (set(table) | set(NO_ESTATE_IDS)) - routes == set(), "a probe for an endpoint that is gone"
    for key in {p.key for ps in table.values() for p in ps}:
        await api.token(key)  # sign in first: a login writes rows
    failures = []
    for route, ps in table.items():
        for p in ps:
            before = await _counts(database)
            if p.mutations:
                dev = Device(api, p.key)
                results = await dev.push(*(dev.mutation(name, args) for name, args in p.mutations))
                got = [(r["status"], r.get("code")) for r in results]
                if got != [("rejected", "not_found")] * len(p.mutations):
                    failures.append(f"{route} {p.key} {p.mutations}: {got}")
                allowed = SYNC_BOOKKEEPING
            else:
                headers = await api.headers(p.key)
                kw = {"files": p.files} if p.files else ({"json": p.json} if p.json is not None else {})
                r = await api.client.request(p.method, p.url, headers=headers, **kw)
                if r.status_code != 404 or r.json().get("code") != "not_found":
                    failures.append(f"{route} {p.key} {p.url} {p.json}: {r.status_code} {r.text[:200]}")
                allowed = set()
            after = await _counts(database)
            changed = {t for t in before if before[t] != after[t]} - allowed
            if changed:
                failures.append(f"{route} {p.key} {p.url}: stored rows in {sorted(changed)}")
    assert failures == [], "\n".join(failures)
