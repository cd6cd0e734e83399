"""Who sees an order, and which sync audiences receive its changes."""

from __future__ import annotations

from sqlalchemy import and_, or_

from server.accounts.scope import Actor, Scope
from server.orders.models import Order, Status
from server.syncing import changelog

QUEUE_STATUSES = (Status.new, Status.dispatched)


def in_queue_of(actor: Actor, order: Order) -> bool:
    """An unassigned order waiting in the actor's department queue (a technician may take it)."""
    return (
        order.assignee_id is None
        and order.status in QUEUE_STATUSES
        and order.estate_id == actor.estate_id
        and order.department == actor.department
    )


def can_see(actor: Actor, order: Order) -> bool:
    scope = actor.scope
    if scope is Scope.everything:
        return actor.sees_estate(order.estate_id)
    if scope is Scope.estate:
        return order.estate_id == actor.estate_id
    if order.assignee_id == actor.staff_id:
        return True
    if scope is Scope.grids:
        return order.grid_id in actor.grid_ids
    return in_queue_of(actor, order)


def where_visible(actor: Actor):
    """The same rule as :func:`can_see`, as a WHERE clause over ``orders``."""
    scope = actor.scope
    if scope is Scope.everything:
        return actor.where_estate(Order.estate_id)
    if scope is Scope.estate:
        return Order.estate_id == actor.estate_id
    mine = Order.assignee_id == actor.staff_id
    if scope is Scope.grids:
        return or_(mine, Order.grid_id.in_(sorted(actor.grid_ids))) if actor.grid_ids else mine
    queue = and_(
        Order.assignee_id.is_(None),
        Order.status.in_(QUEUE_STATUSES),
        Order.estate_id == actor.estate_id,
        Order.department == str(actor.department),
    )
    return or_(mine, queue)


def audiences(order: Order) -> set[str]:
    out = {changelog.estate_audience(order.estate_id)}
    if order.grid_id is not None:
        out.add(changelog.grid_audience(order.grid_id))
    if order.assignee_id is not None:
        out.add(changelog.staff_audience(order.assignee_id))
    elif order.status in QUEUE_STATUSES:
        out.add(changelog.dept_audience(order.estate_id, order.department))
    return out
