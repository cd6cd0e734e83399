"""ASGI entry for uvicorn workers: ``uvicorn server.asgi:app`` (settings from the environment)."""

import gc

from server.app import create_app
from server.config import Settings

app = create_app(Settings.from_env())

# Everything loaded so far (modules, the app, SQLAlchemy's mappers) lives as long as the process.
# Frozen, the cyclic collector stops re-scanning it: a full collection under load took ~50 ms (the
# loop stalls meanwhile) and ~5 ms after. Only this process entry freezes; tests build many apps.
gc.freeze()
