"""The server's VAPID key pair: given by ``WUYE_VAPID_PRIVATE_KEY`` (PEM), or shared by every node
through the database (server/cluster/keys.py; :func:`candidate` is what a node offers there)."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


@dataclass(frozen=True)
class VapidKeys:
    private_pem: bytes
    public_pem: bytes
    application_server_key: str  # base64url of the uncompressed P-256 point, for pushManager.subscribe

    @classmethod
    def from_private_pem(cls, pem: bytes) -> VapidKeys:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError("the VAPID key must be a P-256 EC private key")
        public = key.public_key()
        point = public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        return cls(
            private_pem=key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
            public_pem=public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
            application_server_key=base64.urlsafe_b64encode(point).rstrip(b"=").decode(),
        )


def load_or_create(data_dir: Path, env_private_pem: str | None = None) -> VapidKeys:
    if env_private_pem:
        return VapidKeys.from_private_pem(env_private_pem.encode())
    path = data_dir / "vapid" / "private.pem"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(pem)
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)  # another process may have won the race: use theirs
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    return VapidKeys.from_private_pem(path.read_bytes())


def candidate(data_dir: Path, env_private_pem: str | None = None) -> VapidKeys:
    """The key this node offers before it learns the shared one: the environment's, the one an
    older single-node install kept in its data dir (its push subscriptions stay valid), or a fresh
    one held in memory only. Nothing is written to the node's disk."""
    if env_private_pem:
        return VapidKeys.from_private_pem(env_private_pem.encode())
    path = data_dir / "vapid" / "private.pem"
    if path.exists():
        return VapidKeys.from_private_pem(path.read_bytes())
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return VapidKeys.from_private_pem(pem)
