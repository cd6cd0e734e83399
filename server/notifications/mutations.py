"""Marking an in-app notification read from the phone."""

from __future__ import annotations

import uuid

from server.errors import NotFound
from server.notifications.models import Notification
from server.syncing import changelog
from server.syncing.mutations import MutationContext, registry
from sync.registry import Args


class ReadArgs(Args):
    notification_id: uuid.UUID


@registry.mutation("notification.read", ReadArgs)
async def mark_read(ctx: MutationContext, args: ReadArgs) -> None:
    note = await ctx.session.get(Notification, args.notification_id)
    if note is None or note.staff_id != ctx.actor.staff_id:
        raise NotFound("notification")
    if note.read_at is None:
        note.read_at = ctx.now
        await changelog.record(ctx.session, "notifications", [note.id], [changelog.staff_audience(note.staff_id)])
