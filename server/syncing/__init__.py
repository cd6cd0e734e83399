"""The server half of sync: the version clock, the per-audience change log, device state, receipts,
and the storage adapters that plug SQLAlchemy into the pure engine in ``sync/``."""
