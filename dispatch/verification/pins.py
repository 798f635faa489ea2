"""Portal PINs: the rules a new PIN must pass, and its argon2id hash, the only form stored.

A 4-digit PIN has 10,000 values, so what protects it is the guessing limit on the
phone (``verification.pin_lock``) and a slow salted hash should the database
leak. Checking a caller who has no PIN (or no contact at all) still spends the
time of one hash, so how long an answer takes says nothing about who exists.
"""
from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_DIGITS = 4
MAX_DIGITS = 8

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


def hash_pin(pin: str) -> str:
    return _hasher.hash(pin)


def matches(pin_hash: str | None, pin: str) -> bool:
    """Whether ``pin`` is the PIN of ``pin_hash``; with no hash, False after the same work."""
    global _decoy_hash
    if pin_hash is None:
        if _decoy_hash is None:
            _decoy_hash = _hasher.hash("decoy-pin-for-constant-time")
        pin_hash, pin = _decoy_hash, pin + "\x00"
    try:
        return _hasher.verify(pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False
