"""``/schema/openapi.json`` as the server really behaves, so that a generated client works.

Litestar documents every error as its own ``{status_code, detail, extra}``, knows nothing of the
bearer token, of the ``/sync/*`` bodies (read raw, PROTOCOL.md) or of the refusals a handler raises.
:class:`TrueSchemaPlugin` renders Litestar's schema with those corrected:

- one ``Error`` component, ``{code, message, details?}``, for every 4xx/5xx answer;
- the ``BearerToken`` scheme on every operation that needs a signed-in caller (handlers that take
  ``actor``, and routers marked ``opt={"auth": "bearer"}``), with its 401 and 403;
- the statuses each operation can answer: 400 (bad input), 404 (an id not in the caller's scope),
  409/422 on writes, 413 (body too large), 429 (throttled), 503 (database unreachable);
- the sync protocol's headers, bodies and answers (sync/protocol.py's Structs, 426 when outdated).
"""

from __future__ import annotations

import copy
from typing import Any

import msgspec
import msgspec.inspect as mi
from litestar import Request
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.routes import HTTPRoute

from server.web.strict import body_type
from sync import protocol as p

ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "string", "description": "machine-readable and stable, e.g. validation_error"},
        "message": {"type": "string", "description": "for people"},
        "details": {"description": "what exactly was refused (field errors, retry_after, ...)"},
    },
    "additionalProperties": False,
}
SCHEME = {"BearerToken": {"type": "http", "scheme": "bearer"}}

DESCRIPTIONS = {
    "400": "bad input (validation_error, unknown_field, malformed_json, ...); nothing changed",
    "401": "no valid sign-in (Authorization: Bearer <token>)",
    "403": "the caller's role or scope does not allow this",
    "404": "no such record in the caller's scope",
    "405": "method not allowed",
    "409": "the record's state does not allow this now",
    "413": "the request body is too large",
    "415": "unsupported media type",
    "422": "understood but refused by a domain rule",
    "426": "the client's sync protocol is too old: update the app",
    "429": "too many requests; see Retry-After",
    "503": "temporarily unavailable; retry",
}
WRITES = ("post", "put", "patch", "delete")
SHA = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
SYNC_HEADERS = [
    {
        "name": p.HEADER_PROTOCOL,
        "in": "header",
        "required": True,
        "schema": {"type": "string", "pattern": "^[1-9][0-9]{0,2}$"},  # MIN_PROTOCOL = 1
        "description": f"sync protocol version of the client (this server: {p.PROTOCOL_VERSION})",
    },
    {
        "name": p.HEADER_REQUEST_ID,
        "in": "header",
        "required": True,
        "schema": {"type": "string", "format": "uuid"},
        "description": "echoed in the answer; a client accepts only an answer to its own request",
    },
]


UUID_LOWER = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
# Parameters the handlers check themselves (so Litestar cannot know their shape).
PARAMETERS = {
    ("/api/photos/{sha}/{size}", "sha"): SHA,
    ("/api/photos/{sha}/{size}", "size"): {"type": "string", "enum": ["thumb", "view"]},
    ("/sync/pull", "client_id"): {"type": "string", "pattern": UUID_LOWER},
    ("/api/stewards/{steward_id}/scorecard", "month"): {
        "oneOf": [{"type": "string", "pattern": "^20[0-9]{2}-(0[1-9]|1[0-2])$"}, {"type": "null"}]
    },
}
HTML = {"text/html": {"schema": {"type": "string"}}}
BINARY = {"schema": {"type": "string", "format": "binary"}}
# Answers that are not JSON although the handler returns a plain Response.
MEDIA = {
    ("get", "/api/orders/{order_id}/slip"): HTML,
    ("get", "/api/grids/{grid_id}/poster"): HTML,
    ("get", "/api/walks/routes/{route_id}/labels"): HTML,
    ("get", "/api/board/events"): {"text/event-stream": {"schema": {}}},  # each event's data: a JSON object
    ("get", "/api/photos/{sha}/{size}"): {"image/jpeg": BINARY},
    ("get", "/api/orders/{order_id}/progress-link/qr.png"): {"image/png": BINARY},
    ("get", "/api/orders/{order_id}/progress-link/qr.svg"): {"image/svg+xml": {"schema": {"type": "string"}}},
    ("get", "/api/walks/checkpoints/{checkpoint_id}/qr.png"): {"image/png": BINARY},
}


def _shapes(method: str, path: str, op: dict) -> None:
    for param in op.get("parameters", []):
        if (shape := PARAMETERS.get((path, param["name"]))) is not None:
            param["schema"] = copy.deepcopy(shape)
    if (media := MEDIA.get((method, path))) is not None:
        ok = next(code for code in op["responses"] if code.startswith("2"))
        op["responses"][ok]["content"] = copy.deepcopy(media)


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _sync_components() -> dict[str, Any]:
    types = [
        p.PushRequest,
        p.PushResponse,
        p.PullResponse,
        p.BlobStatusResponse,
        p.BlobChunkResponse,
        p.BlobFinishResponse,
    ]
    _, components = msgspec.json.schema_components(types, ref_template="#/components/schemas/{name}")
    return components


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


SYNC_ANSWERS = {
    ("post", "/sync/push"): ("PushRequest", "PushResponse"),
    ("get", "/sync/pull"): (None, "PullResponse"),
    ("get", "/sync/blobs/{sha}"): (None, "BlobStatusResponse"),
    ("put", "/sync/blobs/{sha}"): ("octets", "BlobChunkResponse | BlobFinishResponse"),
    ("post", "/sync/blobs/{sha}/finish"): (None, "BlobFinishResponse"),
}


def _handlers(app):
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                for method in handler.http_methods:
                    yield (method.lower(), route.path_format), handler


def _auth_of(app) -> dict[tuple[str, str], str]:
    """(method, path) -> "bearer" or "optional" for the operations that read a sign-in."""
    out: dict[tuple[str, str], str] = {}
    for key, handler in _handlers(app):
        auth = handler.opt.get("auth")
        if auth is None and "actor" in handler.parsed_fn_signature.parameters:
            auth = "bearer"
        if auth:
            out[key] = auth
    return out


def _datetime_formats(types: list, components: dict) -> None:
    """msgspec writes a datetime as a bare string (``format`` only for ``tz=True``); the server
    decodes RFC 3339 only, so the schema says ``date-time``."""
    seen: set[type] = set()

    def mark(schema: dict) -> None:
        for option in schema.get("anyOf", [schema]):
            if option.get("type") == "string":
                option["format"] = "date-time"

    def walk(t) -> None:
        if isinstance(t, mi.StructType):
            if t.cls in seen:
                return
            seen.add(t.cls)
            props = components.get(t.cls.__name__, {}).get("properties", {})
            for f in t.fields:
                inner = f.type.types if isinstance(f.type, mi.UnionType) else (f.type,)
                if any(isinstance(x, mi.DateTimeType) for x in inner) and f.encode_name in props:
                    mark(props[f.encode_name])
                walk(f.type)
        elif isinstance(t, mi.UnionType):
            for x in t.types:
                walk(x)
        elif isinstance(t, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
            walk(t.item_type)
        elif isinstance(t, mi.DictType):
            walk(t.value_type)

    for info in mi.multi_type_info(types):
        walk(info)


def _request_bodies(app, doc: dict) -> None:
    """JSON bodies described by msgspec from the very Structs that decode them (strictly, see
    server/web/strict.py): Litestar's version lost constraints of nested types (the pattern of each
    photo hash in a list, for one), so valid-looking input was refused."""
    bodies = {key: tp for key, handler in _handlers(app) if (tp := body_type(handler)) is not None}
    if not bodies:
        return
    keys = sorted(bodies)
    roots, components = msgspec.json.schema_components(
        [bodies[k] for k in keys], ref_template="#/components/schemas/{name}"
    )
    _datetime_formats([bodies[k] for k in keys], components)
    doc["components"]["schemas"].update(components)
    for (method, path), root in zip(keys, roots, strict=True):
        content = doc["paths"].get(path, {}).get(method, {}).get("requestBody", {}).get("content", {})
        if "application/json" in content:
            content["application/json"]["schema"] = root


def _sync_operation(method: str, path: str, op: dict) -> None:
    body, answer = SYNC_ANSWERS[(method, path)]
    names = [name for name in op.get("parameters", []) if name.get("in") != "header"]
    for param in names:
        if param["name"] == "sha":
            param["schema"] = dict(SHA)
    op["parameters"] = names + copy.deepcopy(SYNC_HEADERS)
    if body == "octets":
        op["requestBody"] = {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    elif body:
        op["requestBody"] = {"required": True, "content": _json(_ref(body))}
    schema = {"oneOf": [_ref(n.strip()) for n in answer.split("|")]} if "|" in answer else _ref(answer)
    ok = next(code for code in op["responses"] if code.startswith("2"))
    op["responses"][ok] = {"description": "the answer of PROTOCOL.md", "content": _json(schema)}
    for code in ("426", "503"):
        op["responses"].setdefault(code, {"description": DESCRIPTIONS[code], "content": _json(ERROR_REF)})


def _closed_bodies(op: dict, doc: dict) -> None:
    """Request Structs forbid unknown fields (server/wire.py): their schemas say so."""
    schemas = doc["components"]["schemas"]
    seen: set[str] = set()

    def close(node) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            name = ref.rsplit("/", 1)[-1]
            if ref.startswith("#/components/schemas/") and name not in seen and name in schemas:
                seen.add(name)
                target = schemas[name]
                if target.get("type") == "object" and "properties" in target:
                    target["additionalProperties"] = False
                close(target)
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close((op.get("requestBody") or {}).get("content", {}).get("application/json"))


def refine(schema: dict[str, Any], app) -> dict[str, Any]:
    doc = copy.deepcopy(schema)
    components = doc.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    components["schemas"].update(_sync_components())
    components["securitySchemes"] = SCHEME
    _request_bodies(app, doc)
    auth = _auth_of(app)
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = op.setdefault("responses", {})
            # Every refusal the error handlers can send: a domain rule may answer 404 (an estate not
            # in scope), 409 or 422 on reads too, and sign-in itself answers 401.
            codes = ["400", "401", "403", "404", "409", "413", "422", "429", "503"]
            needs = auth.get((method, path))
            if needs:
                op["security"] = [{"BearerToken": []}] if needs == "bearer" else [{"BearerToken": []}, {}]
            if method in WRITES:
                codes.append("415")
            _closed_bodies(op, doc)
            _shapes(method, path, op)
            for code in list(responses):
                if code[0] in "45":
                    responses[code] = {"description": DESCRIPTIONS.get(code, "refused"), "content": _json(ERROR_REF)}
            for code in codes:
                responses.setdefault(code, {"description": DESCRIPTIONS[code], "content": _json(ERROR_REF)})
            if (method, path) in SYNC_ANSWERS:
                _sync_operation(method, path, op)
    return doc


class TrueSchemaPlugin(JsonRenderPlugin):
    """Serves ``/schema/openapi.json`` refined as above (built once per app, on first request)."""

    def __init__(self) -> None:
        super().__init__()
        self._rendered: bytes | None = None

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        if self._rendered is None:
            self._rendered = self.render_json(request, refine(openapi_schema, request.app))
        return self._rendered
