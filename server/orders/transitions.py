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
# A callback order (回访, e.g. the follow-up of a 不满意 rating) is a phone call, not a visit: it has no
# accept / travel / complete; recording the call's result (``callback``) is what finishes it.
VISIT_KINDS = tuple(k for k in Kind if k is not Kind.callback)
CALLERS = (Role.steward, *DESK)


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
    Transition("take", (S.new, S.dispatched), S.accepted, FIELD, who="queue", kinds=VISIT_KINDS),
    Transition("accept", (S.dispatched,), S.accepted, HANDLERS, who="assignee", kinds=VISIT_KINDS),
    Transition("depart", (S.accepted,), S.en_route, HANDLERS, who="assignee", kinds=VISIT_KINDS),
    Transition("arrive", (S.en_route,), S.on_site, HANDLERS, who="assignee", kinds=VISIT_KINDS),
    Transition("pause", WORKING, S.paused, (*FIELD, *LEADS), who="assignee_or_lead"),
    Transition("resume", (S.paused,), None, (*FIELD, *LEADS), who="assignee_or_lead"),
    Transition("complete", (S.accepted, S.on_site), S.completed, HANDLERS, who="assignee", kinds=VISIT_KINDS),
    Transition("answer", (S.new, S.dispatched), S.completed, (*DESK, Role.steward), kinds=(Kind.inquiry,)),
    Transition("rate", (S.completed, S.called_back), S.rated, (), who="owner"),
    # The 48 h callback after a repair or complaint is done; a 未联系上 attempt leaves the status as it
    # is (server/orders/feedback.py), only a call that reached the owner moves it.
    Transition("callback", (S.completed, S.rated), S.called_back, CALLERS),
    Transition("callback", OPEN, S.called_back, CALLERS, kinds=(Kind.callback,)),
    Transition("close", DONE, S.closed, DESK),
    Transition("reopen", (*DONE, S.closed), S.dispatched, LEADS),
    Transition("cancel", OPEN, S.cancelled, DESK),
)

# An action may have several rows (by kind or source status): ``RULES`` holds all of them in table
# order, ``BY_ACTION`` the first (the names of the actions, in order).
RULES: dict[str, tuple[Transition, ...]] = {}
for _t in TRANSITIONS:
    RULES[_t.action] = (*RULES.get(_t.action, ()), _t)
BY_ACTION = {action: rows[0] for action, rows in RULES.items()}


def rule_for(action: str, status: Status, kind: Kind) -> Transition | None:
    """The row of ``action`` for an order of ``kind`` in ``status``; None when no row of it starts
    from ``status`` (409). An action that never applies to the kind answers with a row whose kinds
    refuse the order (403): accepting a callback order is not allowed, rather than early or late."""
    rows = RULES.get(action, ())
    for_kind = [t for t in rows if t.kinds is None or kind in t.kinds]
    return next((t for t in (for_kind or rows) if status in t.sources), None)


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
