"""Portal PINs: the rules a new PIN must pass, and its argon2id hash, the only form stored.

A new PIN has at least 6 digits (a million values); PINs set under the older 4-digit
rule keep working and are flagged for renewal. What protects a PIN is the guessing
limits on the phone (``verification.pin_lock``) and, should the database leak, a slow
salted hash of the PIN *peppered* with a key kept outside the database (an HMAC keyed
by a key derived from ``IVR_SECRET_KEY``): the hashes alone cannot be brute-forced over
the small space of PINs. Hashes made before the pepper keep verifying, and are replaced
by peppered ones when their PIN is next keyed right. Checking a caller who has no PIN
(or no contact at all) still spends the time of one hash, so how long an answer takes
says nothing about who exists.
"""
from __future__ import annotations

import hashlib
import hmac
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_DIGITS = 6
MAX_DIGITS = 8
PEPPERED = "pepper1:"

_hasher = PasswordHasher()  # argon2id, a fresh random salt per hash
_decoy_hash: str | None = None


def refusal(pin, phones: list[str]) -> str | None:
    """Why ``pin`` may not be a contact's PIN, or None if it may; ``phones`` are the contact's numbers."""
    if not isinstance(pin, str) or not re.fullmatch(rf"[0-9]{{{MIN_DIGITS},{MAX_DIGITS}}}", pin):
        return f"a PIN is {MIN_DIGITS} to {MAX_DIGITS} digits"
    if len(set(pin)) == 1:
        return "a PIN of one repeated digit is too easy to guess"
    steps = {(int(b) - int(a)) % 10 for a, b in zip(pin, pin[1:])}
    if steps in ({1}, {9}):
        return "a run of consecutive digits is too easy to guess"
    for size in range(2, len(pin) // 2 + 1):
        if len(pin) % size == 0 and pin == pin[:size] * (len(pin) // size):
            return "a PIN that repeats a short pattern is too easy to guess"
    for number in phones:
        if pin in re.sub(r"\D", "", number):
            return "a PIN must not be taken from the contact's own phone number"
    return None


def _peppered(pin: str, pepper: bytes) -> str:
    return hmac.new(pepper, pin.encode(), hashlib.sha256).hexdigest()


def hash_pin(pin: str, pepper: bytes) -> str:
    return PEPPERED + _hasher.hash(_peppered(pin, pepper))


def is_peppered(pin_hash: str | None) -> bool:
    return pin_hash is not None and pin_hash.startswith(PEPPERED)


def matches(pin_hash: str | None, pin: str, pepper: bytes) -> bool:
    """Whether ``pin`` is the PIN of ``pin_hash`` (peppered, or made before the pepper); with no
    hash, False after the same work. Slow (argon2): never call it inside a database transaction."""
    global _decoy_hash
    if pin_hash is None:
        if _decoy_hash is None:
            _decoy_hash = _hasher.hash("decoy-pin-for-constant-time")
        pin_hash, pin = _decoy_hash, pin + "\x00"
    elif is_peppered(pin_hash):
        pin_hash, pin = pin_hash.removeprefix(PEPPERED), _peppered(pin, pepper)
    try:
        return _hasher.verify(pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False


def is_short(digits: int | None) -> bool:
    """Whether a PIN of ``digits`` (None: set before its length was kept) is below today's minimum."""
    return digits is None or digits < MIN_DIGITS
