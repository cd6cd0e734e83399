"""The desk proposes answers, a supervisor reviews them; and the take-a-call suggestions (issue 17)."""
# ruff: noqa: F811 - tests take the imported ``library`` fixture as a parameter

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.answers.models import Answer
from tests.test_answers import library  # noqa: F401 - the fixture: the standard library loaded for the test world

pytestmark = pytest.mark.anyio

NEW = {
    "category": "parking",
    "question": "充电桩坏了找谁？",
    "answer": "小区充电桩由【XX充电】公司维护，我帮您登记报修，并把对方客服电话发给您。",
    "keywords": "充电桩 充电 坏了",
}


async def served(api, key, q) -> list[dict]:
    r = await api.get(key, "/api/answers", params={"q": q, "limit": 500})
    assert r.status_code == 200, r.text
    return r.json()


async def suggest(api, q, key="desk") -> list[dict]:
    r = await api.get(key, "/api/answers/suggest", params={"q": q})
    assert r.status_code == 200, r.text
    return r.json()


async def propose(api, key="desk", **changes) -> dict:
    r = await api.post(key, "/api/answers/proposals", json={**NEW, **changes})
    assert r.status_code == 201, r.text
    return r.json()


async def test_a_proposal_is_not_served_until_the_supervisor_approves_it(api, world, library):
    mine = await propose(api)
    assert mine["status"] == "proposed" and mine["proposed_by_name"] == "刘前台"
    assert mine["estate_id"] == str(world.estate.id)
    assert await served(api, "desk", "充电桩坏了") == []
    assert mine["id"] not in {a["id"] for a in await suggest(api, "充电桩坏了找谁")}
    assert (await api.get("desk", f"/api/answers/{mine['id']}")).status_code == 404
    # The supervisor's queue has it; the desk sees her own with its state.
    queue = (await api.get("supervisor", "/api/answers/proposals", params={"status": "proposed"})).json()
    assert [p["id"] for p in queue] == [mine["id"]]
    r = await api.post("supervisor", f"/api/answers/proposals/{mine['id']}/approve")
    assert r.status_code == 201 and r.json()["status"] == "approved" and r.json()["reviewed_by_name"] == "王主管"
    [entry] = await served(api, "desk", "充电桩坏了")
    assert entry["id"] == mine["id"] and entry["estate_id"] == str(world.estate.id)
    assert (await suggest(api, "充电桩坏了找谁"))[0]["id"] == mine["id"]
    # Served in its estate only.
    assert await served(api, "other_supervisor", "充电桩坏了") == []
    [own] = (await api.get("desk", "/api/answers/proposals")).json()
    assert own["status"] == "approved"
    again = await api.post("supervisor", f"/api/answers/proposals/{mine['id']}/approve")
    assert again.status_code == 409 and again.json()["code"] == "proposal_reviewed"


async def test_a_rejection_needs_a_reason_and_the_desk_reads_it(api, library):
    mine = await propose(api)
    r = await api.post("supervisor", f"/api/answers/proposals/{mine['id']}/reject", json={"reason": "  "})
    assert r.status_code == 400
    r = await api.post("supervisor", f"/api/answers/proposals/{mine['id']}/reject", json={"reason": "已有同类话术"})
    assert r.status_code == 201 and r.json()["status"] == "rejected"
    [own] = (await api.get("desk", "/api/answers/proposals")).json()
    assert own["status"] == "rejected" and own["review_note"] == "已有同类话术" and own["reviewed_by_name"] == "王主管"
    assert await served(api, "desk", "充电桩坏了") == []
    r = await api.post("supervisor", f"/api/answers/proposals/{mine['id']}/approve")
    assert r.status_code == 409


@pytest.mark.parametrize("key", ["desk", "lead", "steward_a"])
async def test_only_a_manager_reviews(api, library, key):
    mine = await propose(api)
    for verb, body in (("approve", None), ("reject", {"reason": "不行"})):
        r = await api.post(key, f"/api/answers/proposals/{mine['id']}/{verb}", json=body)
        assert r.status_code == 403, (key, verb, r.text)
    assert (await api.get("desk", "/api/answers/proposals")).json()[0]["status"] == "proposed"


async def test_technicians_do_not_propose_and_bad_proposals_are_refused(api, library):
    assert (await api.post("tech_a", "/api/answers/proposals", json=NEW)).status_code == 403
    r = await api.post("desk", "/api/answers/proposals", json={**NEW, "question": " "})
    assert r.status_code == 400
    r = await api.post("desk", "/api/answers/proposals", json={**NEW, "status": "approved"})
    assert r.status_code == 400


async def test_each_person_sees_only_their_own_proposals_and_a_supervisor_only_their_estate(api, library):
    mine = await propose(api)
    theirs = await propose(api, "other_steward", question="外项目的提议")
    assert [p["id"] for p in (await api.get("lead", "/api/answers/proposals")).json()] == []
    assert [p["id"] for p in (await api.get("supervisor", "/api/answers/proposals")).json()] == [mine["id"]]
    assert [p["id"] for p in (await api.get("other_supervisor", "/api/answers/proposals")).json()] == [theirs["id"]]
    assert {p["id"] for p in (await api.get("admin", "/api/answers/proposals")).json()} == {mine["id"], theirs["id"]}
    r = await api.post("supervisor", f"/api/answers/proposals/{theirs['id']}/approve")
    assert r.status_code == 404 and r.json()["code"] == "not_found"


async def test_an_approved_edit_of_the_company_standard_becomes_the_estate_variant(api, world, library):
    [standard] = await served(api, "desk", "门禁卡丢了")
    better = "请带身份证到前台补办，工本费【20】元，当场就能用。"
    edit = await propose(
        api, category="convenience", question=standard["question"], answer=better, replaces_id=standard["id"]
    )
    assert edit["replaces_question"] == standard["question"]
    assert (await api.post("supervisor", f"/api/answers/proposals/{edit['id']}/approve")).status_code == 201
    rows = await served(api, "desk", "门禁卡丢了")
    assert [r["answer"] for r in rows] == [better, standard["answer"]]  # the estate's variant first
    assert [r["answer"] for r in await served(api, "other_supervisor", "门禁卡丢了")] == [standard["answer"]]


async def test_an_approved_edit_of_an_estate_entry_is_written_onto_it(api, library):
    own = (await api.post("supervisor", "/api/answers", json=NEW)).json()
    edit = await propose(api, answer="充电桩报修请拨【400-XXX】，我们也会帮您跟进。", replaces_id=own["id"])
    r = await api.post("supervisor", f"/api/answers/proposals/{edit['id']}/approve")
    assert r.status_code == 201 and r.json()["status"] == "applied"
    [entry] = await served(api, "desk", "充电桩坏了")
    assert (
        entry["id"] == own["id"]
        and entry["answer"].startswith("充电桩报修请拨")
        and entry["updated_by_name"] == "刘前台"
    )


async def test_an_edit_of_another_estates_entry_is_not_found(api, library):
    theirs = (await api.post("other_supervisor", "/api/answers", json=NEW)).json()
    r = await api.post("desk", "/api/answers/proposals", json={**NEW, "replaces_id": theirs["id"]})
    assert r.status_code == 404


@pytest.mark.parametrize(
    "typed,expected",
    [
        ("物业费怎么交", ["fees-how-to-pay"]),
        ("业主问开发票怎么开", ["fees-invoice"]),
        ("楼上漏水", ["repair-leak-upstairs"]),
        ("门禁卡丢了要补办", ["access-reissue"]),
        ("电梯困人了", ["outage-lift-trapped"]),
        ("停车费为什么涨价", ["parking-fee-adjust"]),
    ],
)
async def test_typing_the_problem_brings_the_right_answer_first(api, database, library, typed, expected):
    async with database.reader() as s:
        keys = {str(k): v for k, v in (await s.execute(select(Answer.id, Answer.starter_key))).all()}
    got = [keys[a["id"]] for a in await suggest(api, typed)]
    assert got[: len(expected)] == expected, got


async def test_typing_a_parking_word_brings_parking_answers(api, library):
    rows = await suggest(api, "车位")
    assert len(rows) == 5 and [r["category"] for r in rows[:3]] == ["parking"] * 3
    assert all("车位" in r["question"] + r["keywords"] for r in rows)
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)


async def test_nothing_typed_or_nothing_alike_suggests_nothing(api, library):
    assert await suggest(api, "") == []
    assert await suggest(api, "，。！") == []
    assert await suggest(api, "量子纠缠实验") == []


async def test_suggestions_follow_an_edit_at_once(api, library):
    own = (await api.post("supervisor", "/api/answers", json=NEW)).json()
    assert (await suggest(api, "充电桩坏了"))[0]["id"] == own["id"]
    edited = {
        **NEW,
        "question": "新能源车位的插座没电",
        "keywords": "插座 没电",
        "answer": "请告诉我车位号，马上安排电工查看。",
    }
    assert (await api.put("supervisor", f"/api/answers/{own['id']}", json=edited)).status_code == 200
    assert own["id"] not in {a["id"] for a in await suggest(api, "充电桩坏了")}
    assert (await suggest(api, "车位插座没电"))[0]["id"] == own["id"]
