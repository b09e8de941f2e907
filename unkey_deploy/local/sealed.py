"""Runtime variable values at rest: sealed with a key kept in the data dir (`variables.key`, mode 0600).

Standard library only: the keystream is HMAC-SHA256(encryption key, nonce || counter) (a PRF in counter
mode), the tag HMAC-SHA256(MAC key, nonce || context || ciphertext) over the variable's place
(project/app/environment/key), so a sealed value copied to another row does not open. Encrypt-then-MAC
with keys derived from one 32-byte secret. A copy of the database alone reveals no value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_FILE = "variables.key"
_VERSION = "v1"
_NONCE = 16
_TAG = 32


class SealError(Exception):
    """A sealed value does not open with this key (another data dir's key, or a modified row)."""


class Sealer:
    def __init__(self, secret: bytes) -> None:
        self._enc = hmac.new(secret, b"unkey-local variables encryption", hashlib.sha256).digest()
        self._mac = hmac.new(secret, b"unkey-local variables authentication", hashlib.sha256).digest()

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
        return cls(bytes.fromhex(text))

    def seal(self, value: str, context: str) -> str:
        nonce = secrets.token_bytes(_NONCE)
        plain = value.encode("utf-8")
        cipher = bytes(a ^ b for a, b in zip(plain, self._stream(nonce, len(plain)), strict=True))
        tag = self._tag(nonce, context, cipher)
        return f"{_VERSION}:" + base64.b64encode(nonce + cipher + tag).decode()

    def open(self, sealed: str, context: str) -> str:
        version, _, payload = sealed.partition(":")
        try:
            raw = base64.b64decode(payload, validate=True)
        except ValueError:
            raise SealError("not a sealed value") from None
        if version != _VERSION or len(raw) < _NONCE + _TAG:
            raise SealError("not a sealed value")
        nonce, cipher, tag = raw[:_NONCE], raw[_NONCE:-_TAG], raw[-_TAG:]
        if not hmac.compare_digest(tag, self._tag(nonce, context, cipher)):
            raise SealError("the value does not open with this data dir's key")
        plain = bytes(a ^ b for a, b in zip(cipher, self._stream(nonce, len(cipher)), strict=True))
        return plain.decode("utf-8")

    def _stream(self, nonce: bytes, length: int) -> bytes:
        blocks = []
        for counter in range((length + 31) // 32):
            blocks.append(hmac.new(self._enc, nonce + counter.to_bytes(8, "big"), hashlib.sha256).digest())
        return b"".join(blocks)[:length]

    def _tag(self, nonce: bytes, context: str, cipher: bytes) -> bytes:
        context_bytes = context.encode("utf-8")
        message = nonce + len(context_bytes).to_bytes(4, "big") + context_bytes + cipher
        return hmac.new(self._mac, message, hashlib.sha256).digest()
