"""Settings from environment variables, with safe defaults for the embedded (SQLite) set-up.

A bad value stops start-up with one line naming the variable (:class:`ConfigError`).
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlparse

from server.outbound import DEFAULT_PUSH_HOSTS
from server.photos.s3blobs import S3Location


class ConfigError(Exception):
    """Raised with a one-line message naming the offending variable."""


_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_HOST_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


def _hosts(env: dict[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """A comma-separated list of host names (or IP addresses), lower case, no brackets or ports."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    hosts = []
    for item in raw.split(","):
        host = item.strip().lower().removeprefix("[").removesuffix("]").rstrip(".")
        if not host:
            continue
        if not _HOST_RE.match(host):
            try:
                ipaddress.ip_address(host)
            except ValueError:
                raise ConfigError(f"{name} must list host names separated by commas, got {item.strip()!r}") from None
        hosts.append(host)
    return tuple(hosts) or default


def _int(env: dict[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    base_url: str
    secret: str
    #: True when ``WUYE_SECRET`` set it; otherwise the nodes agree on one through the database
    #: (server/cluster/keys.py) and this one's own is only its candidate.
    secret_from_env: bool = False
    token_ttl_hours: int = 24 * 30
    max_body_bytes: int = 2 * 1024 * 1024
    login_max_failures_per_phone: int = 5
    login_max_failures_per_ip: int = 30
    login_window_minutes: int = 15
    progress_link_days_after_close: int = 30
    #: How long one worker may answer an owner page from memory before reading the database again.
    progress_fresh_ms: int = 1000
    push_contact: str = "ops@wuye.example"
    #: Push services a device may subscribe with (host names; each also allows its subdomains).
    push_hosts: tuple[str, ...] = DEFAULT_PUSH_HOSTS
    #: Development and tests only: hosts that may be plain http and resolve to loopback (SSRF rule).
    dev_loopback_hosts: frozenset[str] = frozenset()
    vapid_private_key: str | None = None
    #: Where the links in SMS point (``<this>/s/<code>``): a short domain of this server when
    #: WUYE_BASE_URL is too long for a link to fit one 70-character SMS; empty: WUYE_BASE_URL.
    sms_link_base: str = ""
    background_jobs: bool = True
    #: Where photos live: None for the local disk under ``data_dir`` (the embedded default), else
    #: S3-compatible storage (``WUYE_BLOBS=s3://bucket/prefix``; see :func:`_blob_location`).
    blobs: S3Location | None = None
    #: scrypt cost as log2(N); 17 is OWASP's minimum (the tests use 14 for speed).
    password_log2_n: int = 17
    #: How much queued work (ms) a push may wait behind before the sync gate answers 429 instead
    #: (server/syncing/routes.py, SyncGate).
    sync_queue_ms: int = 10000
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, *, root: Path | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        root = root or Path.cwd()
        data_dir = Path(env.get("WUYE_DATA_DIR") or root / "var" / "data")
        url = env.get("WUYE_DATABASE_URL") or f"sqlite+aiosqlite:///{root / 'var' / 'wuye.sqlite3'}"
        if not (url.startswith("sqlite+aiosqlite://") or url.startswith("postgresql+asyncpg://")):
            raise ConfigError(
                "WUYE_DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://, "
                f"got {url.split('://')[0]!r}"
            )
        base_url = (env.get("WUYE_BASE_URL") or "http://127.0.0.1:8000").rstrip("/")
        parsed = urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigError(f"WUYE_BASE_URL must be an http(s) URL, got {base_url!r}")
        secret = env.get("WUYE_SECRET") or _persisted_secret(data_dir)
        if len(secret) < 32:
            raise ConfigError("WUYE_SECRET must be at least 32 characters long")
        bg = env.get("WUYE_BACKGROUND_JOBS", "1")
        if bg not in ("0", "1"):
            raise ConfigError(f"WUYE_BACKGROUND_JOBS must be 0 or 1, got {bg!r}")
        return cls(
            database_url=url,
            data_dir=data_dir,
            base_url=base_url,
            secret=secret,
            secret_from_env=bool(env.get("WUYE_SECRET")),
            token_ttl_hours=_int(env, "WUYE_TOKEN_TTL_HOURS", 24 * 30, minimum=1),
            max_body_bytes=_int(env, "WUYE_MAX_BODY_BYTES", 2 * 1024 * 1024, minimum=1024),
            progress_link_days_after_close=_int(env, "WUYE_PROGRESS_LINK_DAYS", 30, minimum=1),
            progress_fresh_ms=_int(env, "WUYE_PROGRESS_FRESH_MS", 1000),
            push_contact=env.get("WUYE_PUSH_CONTACT") or "ops@wuye.example",
            push_hosts=_hosts(env, "WUYE_PUSH_HOSTS", DEFAULT_PUSH_HOSTS),
            dev_loopback_hosts=frozenset(_hosts(env, "WUYE_DEV_LOOPBACK_HOSTS", ())),
            vapid_private_key=env.get("WUYE_VAPID_PRIVATE_KEY") or None,
            sms_link_base=_sms_link_base(env),
            background_jobs=bg == "1",
            password_log2_n=_int(env, "WUYE_PASSWORD_LOG2N", 17, minimum=10),
            sync_queue_ms=_int(env, "WUYE_SYNC_QUEUE_MS", 10000, minimum=0),
            blobs=_blob_location(env),
        )


def _blob_location(env: dict[str, str]) -> S3Location | None:
    """``WUYE_BLOBS``: unset or ``local`` keeps photos on this node's disk; ``s3://bucket/prefix``
    puts them on S3-compatible storage, reached through ``WUYE_S3_ENDPOINT`` (e.g.
    ``https://oss-cn-shanghai.aliyuncs.com``; unset: AWS), ``WUYE_S3_REGION``,
    ``WUYE_S3_ACCESS_KEY``/``WUYE_S3_SECRET_KEY`` (unset: the AWS SDK's usual chain, e.g.
    ``AWS_ACCESS_KEY_ID`` or an instance role) and ``WUYE_S3_PATH_STYLE=1`` (MinIO, Ceph RGW)."""
    raw = (env.get("WUYE_BLOBS") or "").strip()
    if raw in ("", "local"):
        return None
    parsed = urlparse(raw)
    if parsed.scheme != "s3" or not _BUCKET_RE.match(parsed.netloc or ""):
        raise ConfigError(f"WUYE_BLOBS must be local or s3://bucket/prefix, got {raw!r}")
    endpoint = env.get("WUYE_S3_ENDPOINT") or None
    if endpoint is not None:
        ep = urlparse(endpoint)
        if ep.scheme not in ("http", "https") or not ep.netloc:
            raise ConfigError(f"WUYE_S3_ENDPOINT must be an http(s) URL, got {endpoint!r}")
    path_style = env.get("WUYE_S3_PATH_STYLE", "0")
    if path_style not in ("0", "1"):
        raise ConfigError(f"WUYE_S3_PATH_STYLE must be 0 or 1, got {path_style!r}")
    access, secret = env.get("WUYE_S3_ACCESS_KEY") or None, env.get("WUYE_S3_SECRET_KEY") or None
    if (access is None) != (secret is None):
        raise ConfigError("WUYE_S3_ACCESS_KEY and WUYE_S3_SECRET_KEY are set together or not at all")
    return S3Location(
        bucket=parsed.netloc,
        prefix=parsed.path.strip("/"),
        endpoint_url=endpoint,
        region=env.get("WUYE_S3_REGION") or None,
        access_key=access,
        secret_key=secret,
        path_style=path_style == "1",
    )


def _sms_link_base(env: dict[str, str]) -> str:
    raw = (env.get("WUYE_SMS_LINK_BASE") or "").rstrip("/")
    if raw:
        parsed = urlparse(raw)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.path:
            raise ConfigError(f"WUYE_SMS_LINK_BASE must be an http(s) origin without a path, got {raw!r}")
    return raw


def _persisted_secret(data_dir: Path) -> str:
    """Generate the secret once and keep it in the data dir, so tokens survive restarts."""
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(secrets.token_urlsafe(48))
    os.chmod(tmp, 0o600)
    try:
        os.link(tmp, path)  # fails if another process won the race; then use theirs
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text().strip()
