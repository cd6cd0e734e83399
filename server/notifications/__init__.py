"""Notifications: the in-app feed (delivered with every pull) and the transactional outbox that the
push and webhook senders drain."""
