"""Every action × every status × every kind of actor, against a hand-written expectation.

The expectation below is written from the product rules (DESIGN.md, issue 4), not generated from
``server/orders/transitions.py``, so a change in the table that breaks a rule fails here.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from server.accounts.models import Department, Role
from server.accounts.scope import Actor
from server.errors import DomainError
from server.orders.lifecycle import check
from server.orders.models import Category, Kind, Order, Status

ESTATE = uuid.uuid4()
GRID = uuid.uuid4()


def actor(role: Role, dept: Department = Department.service, grids=()) -> Actor:
    return Actor(
        staff_id=uuid.uuid4(),
        name=role.value,
        role=role,
        department=dept,
        company_id=uuid.uuid4(),
        estate_id=ESTATE,
        grid_ids=frozenset(grids),
    )


ACTORS = {
    "desk": actor(Role.front_desk),
    "lead": actor(Role.team_lead),
    "supervisor": actor(Role.supervisor),
    "admin": actor(Role.admin),
    "steward": actor(Role.steward, grids=[GRID]),
    "assignee": actor(Role.technician, Department.engineering),
    "colleague": actor(Role.technician, Department.engineering),  # same department, not assigned
    "cleaner": actor(Role.technician, Department.cleaning),
}
DESK_SIDE = {"desk", "lead", "supervisor", "admin"}
LEADS = {"lead", "supervisor", "admin"}

# action -> (statuses where it is legal, actors who may fire it there)
EXPECTED: dict[str, tuple[set[str], set[str]]] = {
    "dispatch": ({"new"}, DESK_SIDE),
    "reassign": ({"dispatched", "accepted", "en_route", "on_site", "paused"}, DESK_SIDE),
    "accept": ({"dispatched"}, {"assignee"}),
    "depart": ({"accepted"}, {"assignee"}),
    "arrive": ({"en_route"}, {"assignee"}),
    "pause": ({"accepted", "en_route", "on_site"}, {"assignee"} | LEADS),
    "resume": ({"paused"}, {"assignee"} | LEADS),
    "complete": ({"accepted", "on_site"}, {"assignee"}),
    "callback": ({"completed", "rated"}, DESK_SIDE | {"steward"}),
    "close": ({"completed", "rated", "called_back"}, DESK_SIDE),
    "reopen": ({"completed", "rated", "called_back", "closed"}, LEADS),
    "cancel": ({"new", "dispatched", "accepted", "en_route", "on_site", "paused"}, DESK_SIDE),
    "rate": ({"completed", "called_back"}, set()),  # owners only, never staff
}


def order_in(status: str, kind: Kind = Kind.repair) -> Order:
    assigned = status != "new"
    return Order(
        id=uuid.uuid4(),
        number="CH-1",
        estate_id=ESTATE,
        grid_id=GRID,
        kind=kind,
        category=Category.water_electric,
        status=Status(status),
        department="engineering",
        assignee_id=ACTORS["assignee"].staff_id if assigned else None,
        created_at=datetime.now(UTC),
    )


CASES = [(a, s, who) for a in EXPECTED for s in Status for who in ACTORS]


@pytest.mark.parametrize("action,status,who", CASES, ids=[f"{a}-{s.value}-{w}" for a, s, w in CASES])
def test_transition_rules(action, status, who):
    legal_statuses, allowed = EXPECTED[action]
    order = order_in(status.value)
    if status.value not in legal_statuses:
        with pytest.raises(DomainError) as err:
            check(ACTORS[who], order, action)
        assert (err.value.code, err.value.status) == ("illegal_transition", 409)
    elif who in allowed:
        assert check(ACTORS[who], order, action).action == action
    else:
        with pytest.raises(DomainError) as err:
            check(ACTORS[who], order, action)
        assert (err.value.code, err.value.status) == ("transition_forbidden", 403)


@pytest.mark.parametrize(
    "who,expected", [("assignee", True), ("colleague", True), ("cleaner", False), ("steward", False), ("desk", False)]
)
def test_take_from_the_department_queue(who, expected):
    order = order_in("new")  # unassigned, engineering queue
    if expected:
        assert check(ACTORS[who], order, "take").action == "take"
    else:
        with pytest.raises(DomainError, match="may not take"):
            check(ACTORS[who], order, "take")


def test_take_is_refused_once_someone_else_has_it():
    order = order_in("dispatched")
    with pytest.raises(DomainError) as err:
        check(ACTORS["colleague"], order, "take")
    assert err.value.code == "transition_forbidden"


@pytest.mark.parametrize(
    "kind,who,ok",
    [
        (Kind.inquiry, "desk", True),
        (Kind.inquiry, "steward", True),
        (Kind.inquiry, "assignee", False),
        (Kind.repair, "desk", False),
    ],
)
def test_answer_closes_inquiries_only(kind, who, ok):
    order = order_in("new", kind)
    if ok:
        assert check(ACTORS[who], order, "answer").target is Status.completed
    else:
        with pytest.raises(DomainError):
            check(ACTORS[who], order, "answer")


def test_owner_may_rate_and_nobody_else():
    order = order_in("completed")
    assert check(None, order, "rate", owner=True).action == "rate"
    with pytest.raises(DomainError):
        check(ACTORS["admin"], order, "rate")


def test_unknown_action_is_refused():
    with pytest.raises(DomainError) as err:
        check(ACTORS["admin"], order_in("new"), "teleport")
    assert err.value.code == "unknown_action"
