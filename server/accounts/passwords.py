"""Password hashing with scrypt (memory-hard; stdlib, so no extra dependency)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

# n=2**14, r=8 → 16 MiB and ~40 ms per hash on this class of machine: slow for a guesser,
# fine for a login. Parameters are stored with each hash so they can be raised later.
N, R, P = 2**14, 8, 1


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, maxmem=64 * 2**20, dklen=32)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(digest)}"


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
            maxmem=64 * 2**20,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# Verified against when the phone is unknown, so timing does not reveal which phones exist.
DUMMY_HASH = hash_password("not-a-real-password")
