"""Password hashing with scrypt (memory-hard; stdlib, so no extra dependency).

Cost: OWASP's current minimum for scrypt, N=2**17, r=8, p=1 (128 MiB and a few hundred ms per
hash). The parameters are stored with each hash; :func:`needs_rehash` tells the login to re-hash a
password stored at a lower cost, so old accounts move up on their next successful sign-in. The
hashing runs in a worker thread (it would stall the event loop), at most two at a time (two hashes
are 256 MiB; a shift starting at 8:00 must not exhaust memory).

``configure(log2_n)`` lowers or raises N for the process: ``WUYE_PASSWORD_LOG2N`` (the test suite
uses 14 so that each sign-in does not cost half a second; never below 17 in production).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading

import anyio

LOG2_N, R, P = 17, 8, 1
_cost = {"n": 2**LOG2_N}
_dummy: dict[int, str] = {}
_slots = threading.BoundedSemaphore(2)


def configure(log2_n: int) -> None:
    _cost["n"] = 2**log2_n


def _maxmem(n: int, r: int) -> int:
    return 2 * 128 * r * n + 2**20  # scrypt needs 128·r·N bytes; leave room


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hash_password(password: str, *, n: int | None = None) -> str:
    n = n or _cost["n"]
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=R, p=P, maxmem=_maxmem(n, R), dklen=32)
    return f"scrypt${n}${R}${P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_maxmem(int(n), int(r)),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(stored: str) -> bool:
    """True when ``stored`` was made at less than today's cost (or is not a hash we recognise)."""
    try:
        scheme, n, r, p, *_ = stored.split("$")
        return scheme != "scrypt" or int(n) < _cost["n"] or int(r) < R or int(p) < P
    except ValueError:
        return True


def dummy_hash() -> str:
    """Verified against when the phone is unknown, so timing does not reveal which phones exist."""
    n = _cost["n"]
    if n not in _dummy:
        _dummy[n] = hash_password("not-a-real-password", n=n)
    return _dummy[n]


def _limited(fn, *args):
    with _slots:
        return fn(*args)


async def hash_async(password: str) -> str:
    return await anyio.to_thread.run_sync(_limited, hash_password, password)


async def verify_async(password: str, stored: str | None) -> bool:
    """``stored`` None (unknown phone) costs the same as a real check and is False."""
    if stored is None:
        await anyio.to_thread.run_sync(_limited, verify_password, password, dummy_hash())
        return False
    return await anyio.to_thread.run_sync(_limited, verify_password, password, stored)
