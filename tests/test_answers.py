"""The answer library (话术库): the starter set, search and ranking, who reads and who writes."""

from __future__ import annotations

import uuid

import pytest

from server.answers.models import Answer, AnswerCategory
from server.answers.service import load_starter, terms_of
from server.answers.starter import STARTER

pytestmark = pytest.mark.anyio

RANK = {"question": 0, "keywords": 1, "answer": 2}


@pytest.fixture
async def library(database, world, clock) -> int:
    async with database.writer() as session:
        added = await load_starter(session, world.company.id, now=clock.now())
        await session.commit()
    return added


async def find(api, key, **params) -> list[dict]:
    r = await api.get(key, "/api/answers", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_the_starter_set_covers_every_category_with_realistic_chinese_entries():
    assert len(STARTER) >= 60
    assert len({s.key for s in STARTER}) == len(STARTER)
    assert {s.category for s in STARTER} == set(AnswerCategory)
    greeting = next(s for s in STARTER if s.key == "greeting-phone")
    assert "您好" in greeting.answer and "物业客服" in greeting.answer and "很高兴为您服务" in greeting.answer
    for topic in (
        "物业费",
        "发票",
        "欠费",
        "月租",
        "临时停车",
        "车位被占",
        "访客",
        "装修",
        "押金",
        "施工时间",
        "装修垃圾",
        "承重墙",
        "停水",
        "停电",
        "电梯",
        "狗",
        "牵绳",
        "粪便",
        "噪音",
        "快递柜",
        "代收",
        "门禁卡",
        "人脸",
    ):
        assert any(topic in s.question + s.keywords for s in STARTER), topic
    for s in STARTER:
        assert s.question.strip() and len(s.answer) >= 20 and len(s.question) <= 200 and len(s.keywords) <= 300


async def test_loading_the_starter_set_twice_adds_nothing_the_second_time(database, world, library):
    assert library == len(STARTER)
    async with database.writer() as session:
        assert await load_starter(session, world.company.id) == 0
        await session.commit()


async def test_every_staff_member_reads_the_company_library(api, library):
    for key in ("desk", "tech_a", "steward_a", "other_supervisor", "admin"):
        assert len(await find(api, key, limit=500)) == len(STARTER), key


async def test_search_finds_chinese_substrings_and_ranks_question_matches_first(api, library):
    rows = await find(api, "desk", q="押金")
    assert rows[0]["question"] == "装修押金交多少？什么时候退？"
    ranks = [RANK[r["matched_in"]] for r in rows]
    assert ranks == sorted(ranks)
    assert "answer" in {r["matched_in"] for r in rows}  # answer-only matches exist and come last
    assert all("押金" in r["question"] + r["keywords"] + r["answer"] for r in rows)


async def test_every_term_must_match_and_keywords_count(api, library):
    rows = await find(api, "desk", q="装修 时间")
    assert rows[0]["question"] == "装修施工时间有什么规定？"
    assert all(
        "装修" in r["question"] + r["keywords"] + r["answer"] and "时间" in r["question"] + r["keywords"] + r["answer"]
        for r in rows
    )
    [locker, *_] = await find(api, "desk", q="丰巢")
    assert locker["category"] == "parcels" and locker["matched_in"] == "keywords"
    assert await find(api, "desk", q="不存在的问题词") == []


async def test_category_filter_and_wildcards_are_literal(api, library):
    rows = await find(api, "desk", category="greeting")
    assert rows and {r["category"] for r in rows} == {"greeting"}
    literal = {s.question for s in STARTER if "%" in s.question + s.keywords + s.answer}
    assert literal and {r["question"] for r in await find(api, "desk", q="%")} == literal
    assert await find(api, "desk", q="_") == []
    r = await api.get("desk", "/api/answers", params={"category": "weather"})
    assert r.status_code == 400


def test_search_terms_split_on_any_space_and_are_capped():
    assert terms_of("装修\u3000押金  退") == ["装修", "押金", "退"]
    assert len(terms_of("a b c d e f g")) == 5
    assert terms_of("  ") == [] and terms_of(None) == []


BODY = {
    "category": "fees",
    "question": "本小区物业费多少钱一平？",
    "answer": "高层住宅2.80元/平方米·月，洋房3.20元/平方米·月。",
    "keywords": "物业费，单价 高层,洋房",
}


async def test_supervisor_keeps_the_estate_library_and_the_desk_reads_it(api, world, library):
    r = await api.post("supervisor", "/api/answers", json=BODY)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["estate_id"] == str(world.estate.id) and created["updated_by_name"] == "王主管"
    assert created["keywords"] == "物业费 单价 高层 洋房" and created["starter"] is False
    rows = await find(api, "desk", q="物业费 洋房")
    assert rows[0]["id"] == created["id"]  # the estate's own entry before company-wide ones
    assert created["id"] not in {a["id"] for a in await find(api, "other_supervisor", q="物业费", limit=500)}
    r = await api.put("supervisor", f"/api/answers/{created['id']}", json={**BODY, "answer": "2.95元/平方米·月"})
    assert r.status_code == 200 and r.json()["answer"] == "2.95元/平方米·月"
    r = await api.delete("supervisor", f"/api/answers/{created['id']}")
    assert r.status_code == 204
    assert created["id"] not in {a["id"] for a in await find(api, "desk", q="物业费", limit=500)}


@pytest.mark.parametrize("key", ["desk", "lead", "steward_a", "tech_a"])
async def test_only_supervisors_and_admins_write(api, library, key):
    [entry] = await find(api, "desk", q="门禁卡丢了")
    assert (await api.post(key, "/api/answers", json=BODY)).status_code == 403
    assert (await api.put(key, f"/api/answers/{entry['id']}", json=BODY)).status_code == 403
    assert (await api.delete(key, f"/api/answers/{entry['id']}")).status_code == 403


async def test_company_wide_entries_are_the_admins(api, world, library):
    [entry] = await find(api, "desk", q="门禁卡丢了")
    r = await api.put("supervisor", f"/api/answers/{entry['id']}", json=BODY)
    assert r.status_code == 403 and r.json()["code"] == "company_wide_admin_only"
    r = await api.post("supervisor", "/api/answers", json={**BODY, "estate_id": str(world.other_estate.id)})
    assert r.status_code == 404
    r = await api.put(
        "admin",
        f"/api/answers/{entry['id']}",
        json={
            "category": "access_cards",
            "question": entry["question"],
            "answer": "请带身份证到前台补办，工本费20元。",
        },
    )
    assert r.status_code == 200 and r.json()["estate_id"] is None and r.json()["starter"] is True
    r = await api.post("admin", "/api/answers", json=BODY)
    assert r.status_code == 201 and r.json()["estate_id"] is None
    assert r.json()["id"] in {a["id"] for a in await find(api, "other_supervisor", q="洋房")}


async def test_an_estate_entry_is_invisible_and_untouchable_from_another_estate(api, world, library):
    created = (await api.post("supervisor", "/api/answers", json=BODY)).json()
    assert (await api.get("other_supervisor", f"/api/answers/{created['id']}")).status_code == 404
    assert (await api.put("other_supervisor", f"/api/answers/{created['id']}", json=BODY)).status_code == 404
    assert (await api.delete("other_supervisor", f"/api/answers/{created['id']}")).status_code == 404
    assert (await api.get("desk", f"/api/answers/{created['id']}")).json()["answer"] == BODY["answer"]


async def test_a_deleted_starter_entry_stays_deleted_when_the_set_is_loaded_again(api, database, world, library):
    [entry] = await find(api, "desk", q="门禁卡丢了")
    assert (await api.delete("admin", f"/api/answers/{entry['id']}")).status_code == 204
    async with database.writer() as session:
        assert await load_starter(session, world.company.id) == 0
        await session.commit()
        row = await session.get(Answer, uuid.UUID(entry["id"]))
        assert row.active is False
    assert await find(api, "desk", q="门禁卡丢了") == []


@pytest.mark.parametrize(
    "body",
    [
        {**BODY, "question": "   "},
        {**BODY, "answer": ""},
        {**BODY, "category": "weather"},
        {**BODY, "question": "问" * 201},
    ],
)
async def test_bad_entries_are_refused(api, library, body):
    r = await api.post("supervisor", "/api/answers", json=body)
    assert r.status_code == 400 and r.json()["code"] == "validation_error"
