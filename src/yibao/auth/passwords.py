"""Passwords of people who sign in to the pages: argon2 hashes, lockout, no enumeration.

Passwords are chosen by people, so they are hashed with argon2-cffi's default parameters
(RFC 9106's second recommendation: 3 passes over 64 MiB), not the light ones that suit the
long random bearer tokens of :mod:`yibao.auth.tokens`.

After ``MAX_FAILED_LOGINS`` wrong passwords in a row an account is locked for ``LOCKOUT``;
while it is locked even the right password is refused. A sign-in under a name nobody holds
answers exactly as a wrong password does, takes as long (a hash is checked all the same),
and is locked the same way after as many tries (counted in this process), so the answers
never tell whether a name exists. Signing in returns its outcome instead of raising: the
failure counters must be committed with the answer.

Failures are also counted per client address (:mod:`yibao.auth.ratelimit`, together with
wrong bearer tokens); an address past its limit is answered as locked before any hash is
checked. The account's lockout stays here, in the database, shared by every node.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from yibao.auth.models import User
from yibao.auth.ratelimit import Key, record_failure, refuse_if_limited
from yibao.clock import as_utc
from yibao.errors import ValidationFailed
from yibao.limits import TooManyAttempts

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256

_HASHER = PasswordHasher()
_LOGIN = re.compile(r"[a-z0-9][a-z0-9_.-]{1,39}")


class SignInOutcome(StrEnum):
    SIGNED_IN = "signed_in"
    INVALID = "invalid"  # unknown name, wrong password, no password, inactive: one answer
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class SignIn:
    outcome: SignInOutcome
    user: User | None = None  # set when signed in
    locked_until: datetime | None = None  # set when locked
    retry_after: int | None = None  # seconds, when the address (not the account) is refused


def normalise_login(login: str) -> str:
    """The stored form of a login name: trimmed, lower case."""
    return login.strip().lower()


def login_problems(login: str) -> list[str]:
    if not _LOGIN.fullmatch(login):
        return [
            "a login is 2 to 40 characters: lower-case letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        ]
    return []


def password_problems(password: str) -> list[str]:
    """What is wrong with a new password ([] when it may be used)."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"a password has at most {MAX_PASSWORD_LENGTH} characters")
    if password.strip() != password:
        problems.append("a password neither starts nor ends with a space")
    return problems


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def set_password(session: Session, *, user: User, password: str, login: str | None = None) -> None:
    """Give ``user`` a password (and a login name, required when it has none yet).

    Unlocks the account. The caller ends the user's web sessions and writes the audit entry
    (:func:`yibao.users.service.set_password`).
    """
    problems = password_problems(password)
    if login is not None:
        login = normalise_login(login)
        problems += login_problems(login)
        taken = session.scalars(
            select(User.id).where(User.login == login, User.id != user.id)
        ).first()
        if taken is not None:
            raise ValidationFailed(f"the login {login!r} is taken", code="user.login_taken")
    elif user.login is None:
        problems.append(f"user {user.id} has no login yet: give one (--login)")
    if problems:
        raise ValidationFailed("; ".join(problems), code="user.password_invalid")
    if login is not None:
        user.login = login
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    session.flush()


def password_matches(user: User, password: str) -> bool:
    """Whether ``password`` is the user's present password (False when it has none)."""
    if user.password_hash is None:
        _check_dummy(password)
        return False
    return _verify(user.password_hash, password)


def sign_in(
    session: Session, *, login: str, password: str, now: datetime, client: str | None = None
) -> SignIn:
    """Check a login name and password; counts failures and locks (see the module).

    ``client``, the caller's address, is refused as locked, before any hash is checked,
    after too many failures from it (:mod:`yibao.auth.ratelimit`, shared with the tokens)."""
    address = Key.address(client) if client else None
    try:
        refuse_if_limited(address)
    except TooManyAttempts as refused:
        wait = timedelta(seconds=refused.retry_after)
        return SignIn(
            SignInOutcome.LOCKED, locked_until=now + wait, retry_after=refused.retry_after
        )
    outcome = _sign_in(session, name=normalise_login(login), password=password, now=now)
    if outcome.user is None:
        record_failure(address)
    return outcome


def _sign_in(session: Session, *, name: str, password: str, now: datetime) -> SignIn:
    # the row is locked (PostgreSQL) so that concurrent failures are all counted
    found = select(User).where(User.login == name).with_for_update()
    user = session.scalars(found).one_or_none() if name else None
    if user is None:
        _check_dummy(password)
        return _NOBODY.failed(name, now)
    if user.locked_until is not None and as_utc(user.locked_until) > now:
        _check_dummy(password)  # the same time as any other answer
        return SignIn(SignInOutcome.LOCKED, locked_until=as_utc(user.locked_until))
    if user.password_hash is None:
        _check_dummy(password)
        ok = False
    else:
        ok = _verify(user.password_hash, password)
    if not ok or not user.active:
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.failed_logins = 0
            user.locked_until = now + LOCKOUT
            session.flush()
            return SignIn(SignInOutcome.LOCKED, locked_until=user.locked_until)
        session.flush()
        return SignIn(SignInOutcome.INVALID)
    if _HASHER.check_needs_rehash(user.password_hash or ""):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    return SignIn(SignInOutcome.SIGNED_IN, user=user)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY: list[str] = []


def _check_dummy(password: str) -> None:
    """Spend the time of one real check, so no answer is faster than a wrong password."""
    if not _DUMMY:
        _DUMMY.append(hash_password("not a password of anybody"))
    _verify(_DUMMY[0], password)


class _UnknownNames:
    """Failures under names nobody holds, counted in this process and locked like real
    accounts (bounded; forgotten on restart, as the lock of one would not be)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, tuple[int, datetime | None]] = {}

    def failed(self, name: str, now: datetime) -> SignIn:
        with self._lock:
            count, until = self._failures.get(name, (0, None))
            if until is not None and until > now:
                return SignIn(SignInOutcome.LOCKED, locked_until=until)
            count += 1
            if count >= MAX_FAILED_LOGINS:
                self._remember(name, (0, now + LOCKOUT))
                return SignIn(SignInOutcome.LOCKED, locked_until=now + LOCKOUT)
            self._remember(name, (count, None))
            return SignIn(SignInOutcome.INVALID)

    def _remember(self, name: str, value: tuple[int, datetime | None]) -> None:
        if len(self._failures) > 10_000:
            self._failures.clear()
        self._failures[name] = value


_NOBODY = _UnknownNames()
