"""Render every failure as ``{code, message, details?}`` with a precise status."""

from __future__ import annotations

import logging

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from server.errors import DomainError

log = logging.getLogger("wuye.errors")

STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    426: "client_outdated",
    429: "rate_limited",
    503: "unavailable",
}


def error_response(status: int, code: str, message: str, details=None, headers=None) -> Response:
    body = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return Response(body, status_code=status, headers=headers, media_type="application/json")


MALFORMED_HINTS = ("truncated", "malformed", "trailing characters", "invalid character", "decode", "utf-8")


def _validation_code(exc: ValidationException) -> tuple[str, str]:
    problems = exc.extra if isinstance(exc.extra, list) else []
    texts = [str(p.get("message", "")) for p in problems if isinstance(p, dict)]
    if any("unknown field" in t.lower() for t in texts):
        code = "unknown_field"
    elif any(h in str(exc.detail).lower() for h in MALFORMED_HINTS):
        code = "malformed_json"
    else:
        code = "validation_error"
    parts = [f"{p.get('key')}: {p.get('message')}" for p in problems if isinstance(p, dict)]
    return code, "; ".join(parts) if parts else str(exc.detail)


def _echo(request: Request, headers: dict | None = None) -> dict:
    """Sync clients accept an answer only with their request id echoed (PROTOCOL.md §2), errors too."""
    out = dict(headers or {})
    rid = request.headers.get("wuye-request-id")
    if rid and len(rid) <= 64:
        out["Wuye-Request-Id"] = rid
    return out


def on_domain_error(request: Request, exc: DomainError) -> Response:
    headers = None
    if exc.status == 429 and isinstance(exc.details, dict) and "retry_after" in exc.details:
        headers = {"Retry-After": str(exc.details["retry_after"])}
    return error_response(exc.status, exc.code, exc.message, exc.details, _echo(request, headers))


def on_http_exception(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    echo = _echo(request)
    if isinstance(exc, ValidationException):
        code, message = _validation_code(exc)
        # ``details`` is an object everywhere (PROTOCOL.md §2): the problems go under ``errors``.
        details = {"errors": exc.extra} if isinstance(exc.extra, list) and exc.extra else None
        return error_response(400, code, message, details, echo)
    if status == 413:
        return error_response(413, "body_too_large", "the request body is too large", None, echo)
    if status == 400 and any(h in str(exc.detail).lower() for h in MALFORMED_HINTS):
        return error_response(400, "malformed_json", f"the request body is not valid JSON: {exc.detail}", None, echo)
    code = STATUS_CODES.get(status, "error")
    return error_response(status, code, str(exc.detail), None, _echo(request, exc.headers))


def _raised_in(exc: BaseException, module_suffix: str) -> bool:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_code.co_filename.replace("\\", "/").endswith(module_suffix)


def on_unicode_error(request: Request, exc: UnicodeDecodeError) -> Response:
    """Litestar's multipart parser decodes a part without a filename as UTF-8 text: binary bytes
    there (a file sent without ``filename``) are the client's mistake, not the server's. Any other
    UnicodeDecodeError stays a server error."""
    if _raised_in(exc, "litestar/_multipart.py"):
        message = "a form field that is not a file must be UTF-8 text (send files with a filename)"
        return error_response(400, "malformed_body", message, None, _echo(request))
    return on_unexpected(request, exc)


def on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", "something went wrong on the server")


EXCEPTION_HANDLERS = {
    DomainError: on_domain_error,
    HTTPException: on_http_exception,
    UnicodeDecodeError: on_unicode_error,
    Exception: on_unexpected,
}
