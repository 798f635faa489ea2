"""Console passwords, signing in with a lock-out, and each person's calendar link.

A password is kept only as its argon2id hash (a fresh salt each), never logged. After
``LOCK_AFTER`` wrong passwords in a row an account refuses every sign-in, the right password
too, for ``LOCK_MINUTES``. Whoever signs in is told the same thing whatever went wrong (no
such id, no password set, a wrong password, a locked account), and each refusal spends the
time of one hash check, so neither the answer nor its speed says whether an id exists.

The hash is checked outside any transaction: on SQLite a transaction holds the database's
one write lock, and a webhook must not wait for a password hash.
"""
from __future__ import annotations

import base64
import hmac
import logging
from datetime import datetime, timedelta
from hashlib import sha256

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from core.config import Config, Staff
from core.db import get_locked
from dispatch.runtime import Runtime
from dispatch.staff.models import StaffAccount
from dispatch.verification import secret_box

log = logging.getLogger(__name__)

MIN_LENGTH = 12
MAX_LENGTH = 1024  # argon2 takes any length; a megabyte "password" is only a way to spend our CPU
LOCK_AFTER = 5
LOCK_MINUTES = 15

_hasher = PasswordHasher()  # argon2id, a fresh random salt per hash
_decoy_hash: str | None = None


def password_refusal(password, staff: Staff) -> str | None:
    """Why ``password`` may not be ``staff``'s console password, or None if it may."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        return f"a password has at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password has at most {MAX_LENGTH} characters"
    if password.strip().lower() in (staff.id.lower(), staff.name.lower()):
        return "a password must not be the staff member's id or name"
    if len(set(password)) == 1:
        return "a password of one repeated character is too easy to guess"
    return None


def set_password(runtime: Runtime, staff_id: str, password: str) -> None:
    """Store ``password`` (already checked by :func:`password_refusal`) for ``staff_id``; ends any
    lock-out and every session signed in with the previous password."""
    digest = _hasher.hash(password)
    now = runtime.now()
    with runtime.store.transaction() as session:
        account = _account(session, staff_id)
        account.password_hash = digest
        account.password_version = (account.password_version or 0) + 1
        account.password_set_at = now
        account.failed_attempts, account.locked_until = 0, None
    log.info("console password set for %s", staff_id)


def sign_in(runtime: Runtime, staff_id: str, password: str) -> int | None:
    """The password version to keep in the session when ``password`` is ``staff_id``'s and the account
    is not locked; None otherwise, whatever the reason."""
    config, now = runtime.config, runtime.now()
    if not password or len(password) > MAX_LENGTH:
        return None  # refused alike for every id, and at once: no hash of a megabyte
    staff = config.staff.get(staff_id)
    account = None
    if staff is not None:
        with runtime.store.reading() as session:
            account = session.get(StaffAccount, staff_id)
    usable = account is not None and account.password_hash is not None
    locked = usable and account.locked_until is not None and account.locked_until > now
    if not usable or locked:
        _spend_one_check(password)
        if locked:
            log.info("console sign-in refused for %s: locked until %s", staff_id, account.locked_until.isoformat())
        return None
    if _verifies(account.password_hash, password):
        with runtime.store.transaction() as session:
            row = get_locked(session, StaffAccount, staff_id)
            if row.password_version != account.password_version:
                return None  # a new password was set meanwhile
            row.failed_attempts, row.locked_until, row.signed_in_at = 0, None, now
        log.info("console sign-in: %s", staff_id)
        return account.password_version
    _count_failure(runtime, staff_id, now)
    return None


def session_is_current(runtime: Runtime, staff_id: str, password_version: int) -> bool:
    """Whether a session opened by ``staff_id`` with ``password_version`` still stands: the person is
    still in the configuration and has not set a new password since."""
    if staff_id not in runtime.config.staff:
        return False
    with runtime.store.reading() as session:
        account = session.get(StaffAccount, staff_id)
        return account is not None and account.password_hash is not None \
            and account.password_version == password_version


def calendar_token(runtime: Runtime, staff_id: str) -> str:
    """The unguessable part of ``staff_id``'s calendar link: an HMAC of the id and the link's
    generation under a key derived from the secret key (nothing stored can rebuild it)."""
    with runtime.store.reading() as session:
        account = session.get(StaffAccount, staff_id)
        generation = account.calendar_generation if account is not None else 0
    return _token(runtime, staff_id, generation)


def calendar_tokens(runtime: Runtime, config: Config) -> dict[str, str]:
    """Every staff member's calendar link token, in one read."""
    with runtime.store.reading() as session:
        generations = dict(session.execute(select(StaffAccount.staff_id, StaffAccount.calendar_generation)).all())
    return {sid: _token(runtime, sid, generations.get(sid) or 0) for sid in config.staff}


def calendar_owner(runtime: Runtime, staff_id: str, token: str) -> Staff | None:
    """The staff member whose current calendar link is ``staff_id`` with ``token``, or None."""
    staff = runtime.config.staff.get(staff_id)
    if staff is None:
        return None
    return staff if hmac.compare_digest(calendar_token(runtime, staff_id).encode(), token.encode()) else None


def renew_calendar_token(runtime: Runtime, staff_id: str) -> str:
    """A new calendar link for ``staff_id``; the old one stops working."""
    with runtime.store.transaction() as session:
        account = _account(session, staff_id)
        account.calendar_generation = (account.calendar_generation or 0) + 1
        generation = account.calendar_generation
    log.info("calendar link renewed for %s", staff_id)
    return _token(runtime, staff_id, generation)


def _token(runtime: Runtime, staff_id: str, generation: int) -> str:
    key = secret_box.derived_key(runtime.settings, "calendar-feed")
    digest = hmac.new(key, f"{staff_id}:{generation}".encode(), sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode()


def _account(session, staff_id: str) -> StaffAccount:
    """``staff_id``'s row, locked, made if there is none yet."""
    account = get_locked(session, StaffAccount, staff_id)
    if account is None:
        account = StaffAccount(staff_id=staff_id, password_version=0, failed_attempts=0, calendar_generation=0)
        session.add(account)
    return account


def _count_failure(runtime: Runtime, staff_id: str, now: datetime) -> None:
    with runtime.store.transaction() as session:
        account = get_locked(session, StaffAccount, staff_id)
        account.failed_attempts = (account.failed_attempts or 0) + 1
        if account.failed_attempts >= LOCK_AFTER:
            account.failed_attempts, account.locked_until = 0, now + timedelta(minutes=LOCK_MINUTES)
            log.warning("console sign-in for %s locked for %d minutes after %d wrong passwords",
                        staff_id, LOCK_MINUTES, LOCK_AFTER)
        else:
            log.info("console sign-in refused for %s: wrong password", staff_id)


def _verifies(digest: str, password: str) -> bool:
    try:
        return _hasher.verify(digest, password)
    except (VerificationError, InvalidHashError):
        return False


def _spend_one_check(password: str) -> None:
    """The work of one hash check, for a refusal that needs none (so it takes as long as one that did)."""
    global _decoy_hash
    if _decoy_hash is None:
        _decoy_hash = _hasher.hash("decoy-password-for-constant-time")
    _verifies(_decoy_hash, password + "\x00")
