"""The answer library (话术库): the starter set, search and ranking, who reads and who writes."""

from __future__ import annotations

import uuid

import pytest

from server.answers.library import keywords_of, load_library
from server.answers.library import library as read_library
from server.answers.models import Answer, AnswerCategory
from server.answers.service import terms_of

pytestmark = pytest.mark.anyio

RANK = {"question": 0, "keywords": 1, "answer": 2}


@pytest.fixture
async def library(database, world, clock) -> int:
    async with database.writer() as session:
        added = await load_library(session, world.company.id, now=clock.now())
        await session.commit()
    return added


async def find(api, key, **params) -> list[dict]:
    r = await api.get(key, "/api/answers", params=params)
    assert r.status_code == 200, r.text
    return r.json()


STARTER = read_library().entries
SCENES = ["接待用语", "物业费", "停车", "装修", "公共区域", "报修", "紧急", "投诉", "便民", "安全", "回访"]


def test_the_library_is_a_data_file_of_at_least_120_entries_in_the_seeds_scenes():
    """升级计划: 120条标准应答模板, 同问同答; the scenes of the source documents, each well filled."""
    lib = read_library()
    assert len(STARTER) >= 120
    assert [s.label for s in lib.scenes] == SCENES
    assert {s.key for s in lib.scenes} == set(AnswerCategory) - {AnswerCategory.other}
    for scene in lib.scenes:
        assert sum(e.scene == scene.key for e in STARTER) >= 4, scene.label
    assert len({s.key for s in STARTER}) == len(STARTER)
    assert len({s.question for s in STARTER}) == len(STARTER)
    assert len({s.answer for s in STARTER}) == len(STARTER)
    for e in STARTER:
        assert e.keywords and len(set(e.keywords)) == len(e.keywords), e.key
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
        assert any(topic in s.question + keywords_of(s) for s in STARTER), topic
    for s in STARTER:
        assert s.question.strip() and len(s.answer) >= 20 and len(s.question) <= 200 and len(keywords_of(s)) <= 300


def test_the_library_keeps_the_seeds_rules():
    """投诉 15分钟响应-2小时反馈-48小时闭环; 非标准问题1小时内答复; 回访; 急修不过夜."""
    by_key = {e.key: e.answer for e in STARTER}
    complaint = by_key["complaint-how"]
    assert "15分钟" in complaint and "2小时" in complaint and "48小时" in complaint
    assert "1小时内" in by_key["greeting-unknown"] and "我再问问" in by_key["greeting-unknown"]
    assert "24小时" in by_key["emer-night-leak"] and "急修不过夜" in by_key["emer-night-leak"]
    assert "8点到22点" in by_key["conv-group"]
    assert "二维码" in by_key["repair-how"]
    # Fees and rates are the estate's to fill in, never an invented figure.
    for key in ("fees-standard", "parking-monthly", "parking-fee-adjust"):
        assert "【" in by_key[key], key


def test_a_broken_library_file_is_refused_with_the_entry_named(tmp_path):
    doc = read_library()
    twice = {
        "about": doc.about,
        "scenes": [{"key": s.key, "label": s.label, "source": s.source} for s in doc.scenes],
        "entries": [{"key": "a", "scene": "fees", "question": "q", "answer": "x", "keywords": ["k"]}] * 2,
    }
    path = tmp_path / "lib.json"
    import json

    path.write_text(json.dumps(twice, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValueError, match="a: duplicate key, duplicate question"):
        read_library(path)


async def test_loading_the_starter_set_twice_adds_nothing_the_second_time(database, world, library):
    assert library == len(STARTER)
    async with database.writer() as session:
        assert await load_library(session, world.company.id) == 0
        await session.commit()


async def test_every_staff_member_reads_the_company_library(api, library):
    for key in ("desk", "tech_a", "steward_a", "other_supervisor", "admin"):
        assert len(await find(api, key, limit=500)) == len(STARTER), key
    # In the scenes' order, as the file lists them.
    scenes = [r["category"] for r in await find(api, "desk", limit=500)]
    assert list(dict.fromkeys(scenes)) == [s.key for s in read_library().scenes]


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
    assert locker["category"] == "convenience" and locker["matched_in"] == "keywords"
    assert await find(api, "desk", q="不存在的问题词") == []


async def test_category_filter_and_wildcards_are_literal(api, library):
    rows = await find(api, "desk", category="greeting")
    assert rows and {r["category"] for r in rows} == {"greeting"}
    literal = {s.question for s in STARTER if "%" in s.question + keywords_of(s) + s.answer}
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
            "category": "convenience",
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
        assert await load_library(session, world.company.id) == 0
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
