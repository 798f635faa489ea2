"""Encryption at rest of one-time secrets: AES-256-GCM with a key kept out of the database.

The key is ``IVR_SECRET_KEY`` (32 random bytes, URL-safe base64; make one with
``python -c "import dispatch.verification.secret_box as b; print(b.new_key())"``), else a key file
``secret.key`` generated once in ``IVR_DATA_DIR`` with mode 0600. A stolen copy of the
database alone therefore reveals no secret. Each ciphertext is sealed with its row's
identity as associated data, so ciphertext copied onto another row does not open.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.config import ConfigError

KEY_FILE = "secret.key"
VERSION = "v1:"


class SecretBox:
    def __init__(self, key: bytes):
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return VERSION + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, sealed: str, context: str) -> str | None:
        """The plaintext, or None if the ciphertext was altered, moved or sealed with another key."""
        try:
            raw = base64.urlsafe_b64decode(sealed.removeprefix(VERSION))
            return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except (InvalidTag, ValueError, binascii.Error):
            return None


def new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _decode(text: str, source: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip())
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise ConfigError(source, "must be 32 random bytes in URL-safe base64 "
                          "(see README.md, Caller verification and security, Keys)", "environment")
    return key


def _key_file(data_dir: Path) -> bytes:
    """Read the data folder's key, creating it (0600, atomically) the first time."""
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        draft = data_dir / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(new_key() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(draft, path)  # fails if another process made the key first: theirs wins
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return _decode(path.read_text(), str(path))


@lru_cache(maxsize=8)
def _key(secret_key: str | None, data_dir: Path) -> bytes:
    return _decode(secret_key, "IVR_SECRET_KEY") if secret_key else _key_file(data_dir)


@lru_cache(maxsize=8)
def _box(secret_key: str | None, data_dir: Path) -> SecretBox:
    return SecretBox(_key(secret_key, data_dir))


def box_for(settings) -> SecretBox:
    """The box for these settings; raises ConfigError for a malformed key."""
    return _box(settings.secret_key, settings.data_dir)


def derived_key(settings, purpose: str) -> bytes:
    """A key of its own for ``purpose`` (the console's session cookies, its calendar links), derived
    from the same secret with HMAC-SHA256: knowing one such key reveals neither the secret nor another."""
    return hmac.new(_key(settings.secret_key, settings.data_dir), purpose.encode(), hashlib.sha256).digest()


def pepper(settings) -> bytes:
    """The PIN pepper: a key of its own derived from the secret key (never the key itself), so
    the PIN hashes in a stolen database cannot be tried without it."""
    return derived_key(settings, "portal PIN pepper v1")
