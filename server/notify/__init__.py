"""Channels beyond Web Push (SMS, WeCom) behind the delivery outbox, and the per-estate policy of who
gets what, and when."""
