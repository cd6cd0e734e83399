"""The work-order state machine, as data. Every action an order can undergo is one row here; the
service, the sync mutations, the PWA (via ``GET /api/meta``) and the tests all read this table.

    new → dispatched → accepted → en_route → on_site → completed → rated / called_back → closed
    with pause/resume, reassign, take (from the department queue), cancel, reopen.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.accounts.models import Role
from server.orders.models import Kind, Status

S = Status
DESK = (Role.front_desk, Role.team_lead, Role.supervisor, Role.admin)
LEADS = (Role.team_lead, Role.supervisor, Role.admin)
FIELD = (Role.technician, Role.steward)
# Whoever routing may name as an order's handler (a complaint to the desk, a category with nobody to a
# team lead) can carry it through; ``who="assignee"`` still limits each act to that one person.
HANDLERS = (*FIELD, Role.team_lead, Role.front_desk)
WORKING = (S.accepted, S.en_route, S.on_site)
OPEN = (S.new, S.dispatched, *WORKING, S.paused)
DONE = (S.completed, S.rated, S.called_back)


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[Status, ...]
    target: Status | None  # None: back to the status before the pause (resume)
    roles: tuple[Role, ...]
    # Who among those roles: "assignee" (only the assigned person), "queue" (a field worker of the
    # order's department while it has no assignee), or "any" (every listed role within scope).
    who: str = "any"
    kinds: tuple[Kind, ...] | None = None  # limited to these kinds, else all


TRANSITIONS: tuple[Transition, ...] = (
    Transition("dispatch", (S.new,), S.dispatched, DESK),
    Transition("reassign", (S.dispatched, *WORKING, S.paused), S.dispatched, DESK),
    Transition("take", (S.new, S.dispatched), S.accepted, FIELD, who="queue"),
    Transition("accept", (S.dispatched,), S.accepted, HANDLERS, who="assignee"),
    Transition("depart", (S.accepted,), S.en_route, HANDLERS, who="assignee"),
    Transition("arrive", (S.en_route,), S.on_site, HANDLERS, who="assignee"),
    Transition("pause", WORKING, S.paused, (*FIELD, *LEADS), who="assignee_or_lead"),
    Transition("resume", (S.paused,), None, (*FIELD, *LEADS), who="assignee_or_lead"),
    Transition("complete", (S.accepted, S.on_site), S.completed, HANDLERS, who="assignee"),
    Transition("answer", (S.new, S.dispatched), S.completed, (*DESK, Role.steward), kinds=(Kind.inquiry,)),
    Transition("rate", (S.completed, S.called_back), S.rated, (), who="owner"),
    Transition("callback", (S.completed, S.rated), S.called_back, (Role.steward, *DESK)),
    Transition("close", DONE, S.closed, DESK),
    Transition("reopen", (*DONE, S.closed), S.dispatched, LEADS),
    Transition("cancel", OPEN, S.cancelled, DESK),
)

BY_ACTION = {t.action: t for t in TRANSITIONS}

# Statuses in which the assignee may add repair steps.
STEP_STATUSES = (*WORKING, S.paused)


def as_json() -> list[dict]:
    """The table for ``GET /api/meta`` (the PWA decides which buttons to show from it)."""
    return [
        {
            "action": t.action,
            "from": [s.value for s in t.sources],
            "to": t.target.value if t.target else None,
            "roles": [r.value for r in t.roles],
            "who": t.who,
            "assignee_only": t.who == "assignee",
            "kinds": [k.value for k in t.kinds] if t.kinds else None,
        }
        for t in TRANSITIONS
    ]
