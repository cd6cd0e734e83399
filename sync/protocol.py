"""Wire types and limits of sync protocol v1 (``sync/PROTOCOL.md`` is the contract).

Inbound Structs (what a device sends) refuse unknown fields so that a client bug surfaces as a
400 instead of silently dropped data. Outbound Structs (what the server answers) accept unknown
fields when a client decodes them: new optional answer fields may appear at any time.

``protocol`` and ``request_id`` have no default on purpose: a client decoding an answer that lacks
them (a captive portal, a proxy page) gets a validation error, which it treats as a transport
failure.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import msgspec

PROTOCOL_VERSION = 1
MIN_PROTOCOL = 1

MAX_MUTATIONS = 500
MAX_PUSH_BYTES = 1024 * 1024
MAX_PULL_LIMIT = 1000
DEFAULT_PULL_LIMIT = 500
MAX_CHUNK_BYTES = 1024 * 1024
MAX_BLOB_BYTES = 15 * 1024 * 1024
MAX_BLOB_PIXELS = 40_000_000
#: A batch whose device clock differs from the server's by more than this is flagged on its records.
CLOCK_SKEW_LIMIT = timedelta(minutes=5)

HEADER_PROTOCOL = "Wuye-Protocol"
HEADER_REQUEST_ID = "Wuye-Request-Id"

UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
SHA256_PATTERN = "^[0-9a-f]{64}$"
_INT64_MAX = 2**63 - 1

UUIDStr = Annotated[str, msgspec.Meta(pattern=UUID_PATTERN, description="UUID, lower-case hex with dashes")]
Seq = Annotated[int, msgspec.Meta(ge=1, le=_INT64_MAX)]
AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
# Deliberately loose: an unregistered name is a per-mutation rejection (``unknown_mutation``), which
# advances the queue, whereas a pattern failure here would refuse the whole batch forever.
MutationName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]

MutationStatus = Literal["applied", "duplicate", "rejected"]
ChangeOp = Literal["upsert", "delete", "leave"]

#: HTTP status of every error code in PROTOCOL.md §2.
ERROR_STATUS: dict[str, int] = {
    "malformed_json": 400,
    "validation_error": 400,
    "unknown_field": 400,
    "unauthorized": 401,
    "token_expired": 401,
    "token_revoked": 401,
    "forbidden": 403,
    "seq_gap": 409,
    "wrong_offset": 409,
    "body_too_large": 413,
    "batch_too_large": 413,
    "blob_too_large": 413,
    "not_an_image": 415,
    "hash_mismatch": 422,
    "client_outdated": 426,
    "rate_limited": 429,
    "unavailable": 503,
}

#: Per-mutation rejection: the mutation's ``author`` is not the account whose token pushed it.
WRONG_AUTHOR = "wrong_author"


class Inbound(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base for what a device sends: keyword-only, unknown fields refused."""


class Outbound(msgspec.Struct, kw_only=True):
    """Base for what the server answers. Clients decode these leniently (unknown fields ignored)."""


# --- push -----------------------------------------------------------------------------------------


class Mutation(Inbound):
    seq: Seq
    id: UUIDStr
    name: MutationName
    args: dict[str, Any]
    client_time: AwareDatetime
    #: The account (staff id) that made this mutation on the device. A device shared by several
    #: people sends it so that the server can refuse work pushed under another person's token
    #: (``wrong_author``, PROTOCOL.md §3). Absent: attributed to the caller, as before.
    author: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None


class PushRequest(Inbound):
    client_id: UUIDStr
    client_time: AwareDatetime
    mutations: Annotated[list[Mutation], msgspec.Meta(min_length=1)]


class MutationResult(Outbound, omit_defaults=True):
    seq: int
    id: str
    status: MutationStatus
    code: str | None = None
    message: str | None = None


class PushResponse(Outbound):
    protocol: int
    request_id: str
    server_time: datetime
    last_seq: int
    results: list[MutationResult]


# --- pull -----------------------------------------------------------------------------------------


class Change(Outbound, omit_defaults=True):
    table: str
    id: str
    op: ChangeOp
    version: int
    data: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.op == "upsert" and self.data is None:
            raise ValueError("an upsert change needs `data`")


class PullResponse(Outbound):
    protocol: int
    request_id: str
    server_time: datetime
    reset: bool
    cursor: str
    has_more: bool
    last_seq: int
    changes: list[Change]


# --- photos ---------------------------------------------------------------------------------------


class BlobStatusResponse(Outbound, omit_defaults=True):
    """``GET /sync/blobs/{sha256}``: ``size`` when complete, else ``offset`` (bytes received so far)."""

    protocol: int
    request_id: str
    sha256: str
    complete: bool
    size: int | None = None
    offset: int | None = None

    def __post_init__(self) -> None:
        if self.complete and self.size is None:
            raise ValueError("a complete blob status needs `size`")
        if not self.complete and self.offset is None:
            raise ValueError("an incomplete blob status needs `offset`")


class BlobChunkResponse(Outbound):
    """``PUT /sync/blobs/{sha256}?offset=k``: the offset after this chunk."""

    protocol: int
    request_id: str
    offset: int


class BlobFinishResponse(Outbound):
    """``POST /sync/blobs/{sha256}/finish``."""

    protocol: int
    request_id: str
    complete: bool
    sha256: str
    size: int
    width: int
    height: int
    content_type: str


# --- errors ---------------------------------------------------------------------------------------


class ErrorBody(Outbound, omit_defaults=True):
    code: str
    message: str
    details: dict[str, Any] | None = None


class ProtocolError(Exception):
    """A whole request refused for a reason the protocol names (``code`` from PROTOCOL.md §2).

    The engine raises it without knowing HTTP; the server answers ``status`` with :meth:`body`.
    """

    def __init__(self, code: str, message: str, *, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    @property
    def status(self) -> int:
        return ERROR_STATUS.get(self.code, 400)

    def body(self) -> ErrorBody:
        return ErrorBody(code=self.code, message=self.message, details=self.details)


class SeqGap(ProtocolError):
    """The batch does not continue where the server stopped: nothing was applied."""

    def __init__(self, expected_seq: int):
        super().__init__(
            "seq_gap",
            f"mutations must continue at seq {expected_seq}",
            details={"expected_seq": expected_seq},
        )
        self.expected_seq = expected_seq


# --- codecs ---------------------------------------------------------------------------------------

_push_decoder = msgspec.json.Decoder(PushRequest)
_encoder = msgspec.json.Encoder()


def encode(obj: Any) -> bytes:
    """JSON-encode a wire Struct (or any msgspec-encodable value)."""
    return _encoder.encode(obj)


def decode_push(body: bytes) -> PushRequest:
    """Decode a push body, mapping every failure to the error code PROTOCOL.md §2 names for it."""
    if len(body) > MAX_PUSH_BYTES:
        raise ProtocolError("body_too_large", f"a push body is at most {MAX_PUSH_BYTES} bytes")
    try:
        return _push_decoder.decode(body)
    except msgspec.ValidationError as exc:
        code = "unknown_field" if "unknown field" in str(exc) else "validation_error"
        raise ProtocolError(code, str(exc)) from None
    except msgspec.DecodeError as exc:
        raise ProtocolError("malformed_json", str(exc)) from None
    except RecursionError:  # msgspec's answer to a body nested a thousand deep
        raise ProtocolError("malformed_json", "the body is nested deeper than the server accepts") from None


_INTEGER = re.compile(r"[+-]?[0-9]{1,9}")


def check_protocol_header(value: str | None) -> int:
    """Validate a ``Wuye-Protocol`` header value; a missing one counts as an outdated client."""
    if value is None:
        raise ProtocolError("client_outdated", f"send {HEADER_PROTOCOL}; please update the app")
    text = value.strip()
    if not _INTEGER.fullmatch(text):  # "abc", "1.5", "" (an empty header is sent, not missing)
        raise ProtocolError("validation_error", f"{HEADER_PROTOCOL} must be an integer, got {value[:20]!r}")
    version = int(text)
    if version < MIN_PROTOCOL:
        raise ProtocolError(
            "client_outdated",
            f"protocol {version} is no longer supported (minimum {MIN_PROTOCOL}); please update the app",
        )
    return version


def new_id() -> str:
    """A fresh UUIDv7 (RFC 9562: 48-bit Unix ms, version 7, 74 random bits) as lower-case text."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))
