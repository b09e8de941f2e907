"""Runtime variable values at rest: sealed with a key kept in the data dir (`variables.key`, mode 0600).

AES-256-GCM (the `cryptography` package) with the variable's place (project/app/environment/key) as
associated data, so a sealed value copied to another row does not open. A copy of the database alone
reveals no value.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from unkey_deploy.errors import ConfigError

KEY_FILE = "variables.key"
_VERSION = "v2"
_NONCE = 12
_TAG = 16


class SealError(ConfigError):
    """A sealed value does not open with this key (another data dir's key, or a modified row)."""


class Sealer:
    def __init__(self, secret: bytes) -> None:
        if len(secret) != 32:
            raise SealError("the data dir's variables key is not 32 bytes")
        self._key = secret

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> Sealer:
        """The data dir's key, created (0600) on first use."""
        path = data_dir / KEY_FILE
        try:
            text = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            text = ""
        if not text:
            data_dir.mkdir(parents=True, exist_ok=True)
            text = secrets.token_hex(32)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
        os.chmod(path, 0o600)
        try:
            return cls(bytes.fromhex(text))
        except ValueError:
            raise SealError(f"{path} is not a variables key; restore it from a backup") from None

    def seal(self, value: str, context: str) -> str:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = secrets.token_bytes(_NONCE)
        cipher = AESGCM(self._key).encrypt(nonce, value.encode("utf-8"), context.encode("utf-8"))
        return f"{_VERSION}:" + base64.b64encode(nonce + cipher).decode()

    def open(self, sealed: str, context: str) -> str:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        version, _, payload = sealed.partition(":")
        try:
            raw = base64.b64decode(payload, validate=True)
        except ValueError:
            raise SealError("not a sealed value") from None
        if version != _VERSION or len(raw) < _NONCE + _TAG:
            raise SealError("not a sealed value")
        try:
            plain = AESGCM(self._key).decrypt(raw[:_NONCE], raw[_NONCE:], context.encode("utf-8"))
        except InvalidTag:
            raise SealError("the value does not open with this data dir's key") from None
        return plain.decode("utf-8")
