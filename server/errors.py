"""One error shape everywhere: ``{"code": str, "message": str, "details"?: object}``.

Domain services raise :class:`DomainError` (no HTTP imports there); the app maps it to a response
with ``status``. ``code`` is machine-readable and stable; ``message`` is for people.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal that the caller can understand and act on (never a bug)."""

    status: int = 400

    def __init__(self, code: str, message: str, *, status: int | None = None, details: Any = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
        if status is not None:
            self.status = status

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class NotFound(DomainError):
    status = 404

    def __init__(self, what: str = "record", *, code: str = "not_found"):
        super().__init__(code, f"{what} not found")


class Forbidden(DomainError):
    status = 403

    def __init__(self, message: str = "you may not do this", *, code: str = "forbidden"):
        super().__init__(code, message)


class Conflict(DomainError):
    status = 409


class Unauthorized(DomainError):
    status = 401

    def __init__(self, message: str = "sign in required", *, code: str = "unauthorized"):
        super().__init__(code, message)
