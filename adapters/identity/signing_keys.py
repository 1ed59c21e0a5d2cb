"""The keys that sign our access tokens: a JWK set whose first key signs.

Rotation: put a new key first and keep the old ones after it until the tokens
they signed have expired (15 minutes); every token names its key by ``kid``.
Symmetric keys (HS256) never leave the server; the public halves of RSA and EC
keys are published at ``/.well-known/jwks.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from joserfc.jwk import ECKey, KeySet, OctKey, RSAKey

__all__ = ["SigningKeys"]

Key = OctKey | RSAKey | ECKey

_DEFAULT_ALG = {"oct": "HS256", "RSA": "RS256", "EC": "ES256"}
_ALLOWED = frozenset({"HS256", "HS384", "HS512", "RS256", "PS256", "ES256", "ES384"})
MIN_SECRET_BYTES = 32


class SigningKeys:
    def __init__(self, keys: list[Key]) -> None:
        if not keys:
            raise ValueError("a signing key set needs at least one key")
        for key in keys:
            if not key.kid or key.alg not in _ALLOWED:
                raise ValueError(
                    f"every signing key needs a kid and one of {sorted(_ALLOWED)} as alg"
                )
        if len({k.kid for k in keys}) != len(keys):
            raise ValueError("two signing keys share a kid")
        self.keys = keys
        self.key_set = KeySet(list(keys))

    @property
    def active(self) -> Key:
        return self.keys[0]

    @property
    def algorithms(self) -> list[str]:
        return sorted({str(k.alg) for k in self.keys})

    def public_jwks(self) -> dict[str, Any]:
        """The JWK set others verify our tokens with (no symmetric keys)."""
        return {
            "keys": [
                {**k.as_dict(private=False), "use": "sig"}
                for k in self.keys
                if not isinstance(k, OctKey)
            ]
        }

    # -- where keys come from ------------------------------------------------------

    @classmethod
    def from_jwks(cls, document: dict[str, Any]) -> SigningKeys:
        keys: list[Key] = []
        for stated in document.get("keys", []):
            data = dict(stated)
            data.setdefault("alg", _DEFAULT_ALG.get(data.get("kty", ""), ""))
            key = KeySet.import_key_set({"keys": [data]}).keys[0]
            if isinstance(key, OctKey) and len(key.raw_value) < MIN_SECRET_BYTES:
                raise ValueError(f"signing key {key.kid}: a secret needs {MIN_SECRET_BYTES}+ bytes")
            keys.append(key)  # type: ignore[arg-type]
        return cls(keys)

    @classmethod
    def from_secrets(cls, secrets: list[str]) -> SigningKeys:
        """HS256 keys from shared secrets (the first signs); kids follow from them."""
        keys: list[Key] = []
        for secret in secrets:
            if len(secret.encode()) < MIN_SECRET_BYTES:
                raise ValueError(f"a JWT secret needs at least {MIN_SECRET_BYTES} bytes")
            kid = "hs-" + hashlib.sha256(secret.encode()).hexdigest()[:12]
            keys.append(OctKey.import_key(secret, {"kid": kid, "alg": "HS256"}))
        return cls(keys)

    @classmethod
    def from_settings(cls, jwt_keys: str, jwt_secret: str) -> SigningKeys | None:
        """``SYNAPS_JWT_KEYS`` (a JWK set, inline or a file) or ``SYNAPS_JWT_SECRET``
        (comma-separated secrets); None when neither is set."""
        if jwt_keys.strip():
            text = jwt_keys.strip()
            if not text.startswith("{"):
                text = Path(text).read_text(encoding="utf-8")
            return cls.from_jwks(json.loads(text))
        secrets = [s.strip() for s in jwt_secret.split(",") if s.strip()]
        return cls.from_secrets(secrets) if secrets else None

    @classmethod
    def load_or_create(cls, path: Path) -> SigningKeys:
        """The development key set in ``path``, created (owner-only) on first use."""
        if not path.exists():
            key = OctKey.generate_key(256, parameters={"alg": "HS256"}, private=True)
            document = {"keys": [{**key.as_dict(private=True), "kid": key.thumbprint()[:16]}]}
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                json.dump(document, out, indent=2)
            tmp.replace(path)
        return cls.from_jwks(json.loads(path.read_text(encoding="utf-8")))
