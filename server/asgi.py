"""ASGI entry for uvicorn workers: ``uvicorn server.asgi:app`` (settings from the environment)."""

from server.app import create_app
from server.config import Settings

app = create_app(Settings.from_env())
