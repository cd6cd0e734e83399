"""Photo blobs on S3-compatible object storage (AWS S3, Alibaba Cloud OSS, Tencent COS, MinIO, Ceph
RGW), for several server nodes sharing one store. Same calls and answers as the local
:class:`server.photos.blobstore.BlobStore` (sync/PROTOCOL.md §6).

Layout under ``prefix``::

    blobs/ab/cd/<sha256>              complete and verified (metadata: width, height, content type)
    partial/<sha256>/<offset:012d>    one object per acknowledged chunk
    derived/v<N>/<size>/ab/<sha>.jpg  cached derivatives (metadata: the quoted sha256 of the bytes)

Why one object per chunk rather than a multipart upload: S3 refuses parts under 5 MiB (except the
last) when the upload is completed, and the protocol's chunks are at most 1 MiB. A chunk object is
durable once its PUT is answered, which is what an acknowledged chunk promises.

No lock is shared between nodes; conditional writes (``If-None-Match: *``, which S3, OSS, COS and
MinIO honour) do that work instead. A chunk is written only at the offset the stored chain ends at,
and only if no object holds that offset yet: of two nodes racing for the same offset one gets
``412 Precondition Failed`` and answers ``409 wrong_offset``, so every byte is accepted once. The
blob's final object is written only after the assembled chunks hashed to its name and decoded as an
image, so nothing incomplete or unverified is ever visible under ``blobs/``.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

from server.errors import DomainError
from server.photos.blobstore import BlobInfo, BlobRules, BlobStatus, check_sha

_STREAM_BLOCK = 64 * 1024


@dataclass(frozen=True, slots=True)
class S3Location:
    """Where the blobs live and how to reach the service (parsed from ``WUYE_BLOBS`` and friends)."""

    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    access_key: str | None = None
    secret_key: str | None = None
    path_style: bool = False


def make_client(location: S3Location) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        region_name=location.region,
        signature_version="s3v4",
        s3={"addressing_style": "path" if location.path_style else "virtual"},
        retries={"max_attempts": 4, "mode": "standard"},
        max_pool_connections=32,  # the upload threads of one node share the client
        # botocore adds CRC checksums to every request by default since 1.36; several S3-compatible
        # services (older MinIO, OSS, COS) refuse the unknown headers. Only where S3 requires one.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        connect_timeout=5,
        read_timeout=30,
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=location.endpoint_url,
        aws_access_key_id=location.access_key,
        aws_secret_access_key=location.secret_key,
        config=config,
    )


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _status(exc: Exception) -> int:
    response = getattr(exc, "response", None) or {}
    return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _missing(exc: Exception) -> bool:
    return _code(exc) in ("404", "NoSuchKey", "NotFound") or _status(exc) == 404


def _taken(exc: Exception) -> bool:
    """An ``If-None-Match: *`` write found the key taken (or raced another writer of it)."""
    return _code(exc) in ("PreconditionFailed", "ConditionalRequestConflict") or _status(exc) in (409, 412)


def _unavailable(exc: Exception) -> DomainError:
    return DomainError(
        "unavailable",
        "photo storage is not reachable right now; nothing was stored, try again later",
        status=503,
        details={"storage": _code(exc) or type(exc).__name__},
    )


class S3BlobStore(BlobRules):
    def __init__(
        self,
        location: S3Location,
        *,
        client: Any | None = None,
        max_bytes: int = 15 * 2**20,
        max_pixels: int = 40_000_000,
        chunk_limit: int = 2**20,
    ) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        self.location = location
        self.bucket = location.bucket
        self.prefix = location.prefix.strip("/") + "/" if location.prefix.strip("/") else ""
        self.client = client or make_client(location)
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self.chunk_limit = chunk_limit
        self._client_error = ClientError
        self._botocore_error = BotoCoreError
        # Derivatives render once per node at most: nodes do not share a lock (see Derivatives).
        self._render_locks = [threading.Lock() for _ in range(64)]

    # -- keys ----------------------------------------------------------------------------------------

    def _final(self, sha: str) -> str:
        return f"{self.prefix}blobs/{sha[:2]}/{sha[2:4]}/{sha}"

    def _partial_prefix(self, sha: str) -> str:
        return f"{self.prefix}partial/{sha}/"

    def _chunk_key(self, sha: str, offset: int) -> str:
        return f"{self._partial_prefix(sha)}{offset:012d}"

    # -- S3 calls ------------------------------------------------------------------------------------

    def _call(self, operation: str, **kwargs: Any) -> Any:
        """One S3 request; the service unreachable or failing is ``503 unavailable`` (the phone
        retries later, nothing was acknowledged). Answers the caller handles are passed on."""
        try:
            return getattr(self.client, operation)(Bucket=self.bucket, **kwargs)
        except self._client_error as exc:
            if _missing(exc) or _taken(exc):
                raise
            raise _unavailable(exc) from exc
        except self._botocore_error as exc:  # connection refused, timeouts, ...
            raise _unavailable(exc) from exc

    def _head(self, key: str) -> dict | None:
        try:
            return self._call("head_object", Key=key)
        except self._client_error as exc:
            if _missing(exc):
                return None
            raise

    def _get(self, key: str) -> bytes:
        try:
            return self._call("get_object", Key=key)["Body"].read()
        except self._botocore_error as exc:  # the connection broke while the body was read
            raise _unavailable(exc) from exc

    def _put_new(self, key: str, data: bytes, **extra: Any) -> bool:
        """Write ``key`` unless it exists; False if it did (someone else wrote it first)."""
        try:
            self._call("put_object", Key=key, Body=data, IfNoneMatch="*", **extra)
        except self._client_error as exc:
            if _taken(exc):
                return False
            raise
        return True

    def _list(self, prefix: str) -> Iterator[dict]:
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Prefix": prefix}
            if token:
                kwargs["ContinuationToken"] = token
            page = self._call("list_objects_v2", **kwargs)
            yield from page.get("Contents", [])
            if not page.get("IsTruncated"):
                return
            token = page["NextContinuationToken"]

    def _delete(self, keys: list[str]) -> None:
        for i in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
            batch = [{"Key": k} for k in keys[i : i + 1000]]
            self._call("delete_objects", Delete={"Objects": batch, "Quiet": True})

    def _chunks(self, sha: str) -> tuple[list[tuple[int, int, str]], list[str]]:
        """The stored chain of chunks from offset 0, ``[(offset, size, key)]``, and every chunk key."""
        by_offset: dict[int, tuple[int, str]] = {}
        keys: list[str] = []
        base = self._partial_prefix(sha)
        for obj in self._list(base):
            keys.append(obj["Key"])
            name = obj["Key"][len(base) :]
            if name.isdigit():
                by_offset[int(name)] = (int(obj["Size"]), obj["Key"])
        chain: list[tuple[int, int, str]] = []
        held = 0
        while held in by_offset:
            size, key = by_offset[held]
            chain.append((held, size, key))
            if size == 0:  # only an empty upload (an empty first chunk) writes one
                break
            held += size
        return chain, keys

    def _discard(self, sha: str) -> None:
        _, keys = self._chunks(sha)
        if keys:
            self._delete(keys)

    # -- queries -------------------------------------------------------------------------------------

    def status(self, sha: str) -> BlobStatus:
        check_sha(sha)
        head = self._head(self._final(sha))
        if head is not None:
            size = int(head["ContentLength"])
            return BlobStatus(complete=True, size=size, offset=size)
        chain, _ = self._chunks(sha)
        return BlobStatus(complete=False, size=0, offset=sum(size for _, size, _ in chain))

    def status_now(self, sha: str) -> BlobStatus | None:
        """Never without waiting: every answer is a network round trip (run :meth:`status` in a thread)."""
        check_sha(sha)
        return None

    def _info_from(self, sha: str, head: dict) -> BlobInfo:
        meta = head.get("Metadata", {})
        return BlobInfo(
            sha, int(head["ContentLength"]), int(meta["width"]), int(meta["height"]), head["ContentType"]
        )

    def info(self, sha: str) -> BlobInfo:
        check_sha(sha)
        head = self._head(self._final(sha))
        if head is None:
            raise DomainError("not_found", "blob not found", status=404)
        return self._info_from(sha, head)

    def read(self, sha: str) -> bytes:
        check_sha(sha)
        try:
            return self._get(self._final(sha))
        except self._client_error as exc:
            if _missing(exc):
                raise DomainError("not_found", "blob not found", status=404) from None
            raise

    def source(self, sha: str) -> BinaryIO:
        return io.BytesIO(self.read(sha))

    def verify(self, sha: str) -> bool:
        return hashlib.sha256(self.read(sha)).hexdigest() == sha

    # -- uploads -------------------------------------------------------------------------------------

    def append(self, sha: str, offset: int, data: bytes) -> int:
        self._check_chunk(sha, data)
        head = self._head(self._final(sha))
        if head is not None:
            return int(head["ContentLength"])  # complete already: the chunk is moot
        chain, _ = self._chunks(sha)
        held = sum(size for _, size, _ in chain)
        if offset != held:
            raise self._wrong_offset(held)
        if held + len(data) > self.max_bytes:
            self._discard(sha)
            raise self._too_large()
        if not data and held > 0:
            return held
        if not self._put_new(self._chunk_key(sha, offset), data):
            chain, _ = self._chunks(sha)  # another node wrote this offset first
            raise self._wrong_offset(sum(size for _, size, _ in chain))
        return offset + len(data)

    def finish(self, sha: str) -> BlobInfo:
        check_sha(sha)
        head = self._head(self._final(sha))
        if head is not None:
            self._discard(sha)
            return self._info_from(sha, head)
        chain, keys = self._chunks(sha)
        if not chain:
            return self._finished_elsewhere(sha, "no bytes were received for this blob; upload it from offset 0")
        try:
            data = b"".join(self._get(key) for _, _, key in chain)
        except self._client_error as exc:
            if not _missing(exc):
                raise
            return self._finished_elsewhere(sha, "the bytes received were discarded; upload again from offset 0")
        digest = hashlib.sha256(data).hexdigest()
        if digest != sha:
            self._delete(keys)
            raise self._start_again(
                "the bytes received do not have this sha256; upload again from offset 0",
                received_sha256=digest,
                received_size=len(data),
            )
        try:
            width, height, content_type = self._inspect(io.BytesIO(data))
        except DomainError:
            self._delete(keys)
            raise
        self._commit(sha, data, width, height, content_type)
        self._delete(keys)
        return BlobInfo(sha, len(data), width, height, content_type)

    def _finished_elsewhere(self, sha: str, otherwise: str) -> BlobInfo:
        """The chunks are gone: a finish on another node completed the blob (its answer is ours) or
        threw them away (bad bytes: ``otherwise``, the upload starts again)."""
        head = self._head(self._final(sha))
        if head is None:
            raise self._start_again(otherwise)
        return self._info_from(sha, head)

    def append_and_finish(self, sha: str, offset: int, data: bytes) -> BlobInfo:
        self._check_chunk(sha, data)
        head = self._head(self._final(sha))
        if head is not None:
            return self._info_from(sha, head)  # sent again after a lost answer
        self.append(sha, offset, data)
        return self.finish(sha)

    def put(self, data: bytes) -> BlobInfo:
        if len(data) > self.max_bytes:
            raise self._too_large()
        sha = hashlib.sha256(data).hexdigest()
        head = self._head(self._final(sha))
        if head is not None:
            return self._info_from(sha, head)
        width, height, content_type = self._inspect(io.BytesIO(data))
        self._commit(sha, data, width, height, content_type)
        self._discard(sha)  # a resumable upload of the same bytes is now moot
        return BlobInfo(sha, len(data), width, height, content_type)

    def _commit(self, sha: str, data: bytes, width: int, height: int, content_type: str) -> None:
        # Identical bytes from two nodes: whichever lands first is the blob, the other is moot.
        self._put_new(
            self._final(sha),
            data,
            ContentType=content_type,
            Metadata={"width": str(width), "height": str(height)},
        )

    def collect_partials(self, older_than: float) -> int:
        """Delete uploads whose newest chunk is ``older_than`` seconds old; the number deleted."""
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than)
        newest: dict[str, datetime] = {}
        keys: dict[str, list[str]] = {}
        base = f"{self.prefix}partial/"
        for obj in self._list(base):
            sha = obj["Key"][len(base) :].split("/", 1)[0]
            keys.setdefault(sha, []).append(obj["Key"])
            if sha not in newest or obj["LastModified"] > newest[sha]:
                newest[sha] = obj["LastModified"]
        stale = [sha for sha, when in newest.items() if when < cutoff]
        for sha in stale:
            self._delete(keys[sha])
        return len(stale)

    # -- derivative cache (used by server.photos.derivatives) ----------------------------------------

    def derived_key(self, name: str) -> str:
        return f"{self.prefix}derived/{name}"

    def render_lock(self, sha: str) -> AbstractContextManager[Any]:
        return self._render_locks[int(sha[:2], 16) % len(self._render_locks)]

    def derived_head(self, name: str) -> tuple[str, int] | None:
        """The cached derivative's ETag and length, or None if it has not been rendered."""
        head = self._head(self.derived_key(name))
        if head is None:
            return None
        etag = head.get("Metadata", {}).get("sha256")
        if not etag:
            return None  # written by something else: render it again
        return f'"{etag}"', int(head["ContentLength"])

    def derived_put(self, name: str, data: bytes) -> tuple[str, int]:
        digest = hashlib.sha256(data).hexdigest()
        if self._put_new(self.derived_key(name), data, ContentType="image/jpeg", Metadata={"sha256": digest}):
            return f'"{digest}"', len(data)
        return self.derived_head(name) or (f'"{digest}"', len(data))  # another node rendered it first

    def derived_chunks(self, name: str) -> Iterator[bytes]:
        body = self._call("get_object", Key=self.derived_key(name))["Body"]
        try:
            yield from body.iter_chunks(_STREAM_BLOCK)
        finally:
            body.close()
