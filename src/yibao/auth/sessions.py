"""Server-side web sessions: a signed-in browser holds a random token in a cookie.

The row is found by the token's SHA-256, so a copy of the table signs nobody in. A session
lives ``SESSION_LIFETIME`` from sign-in at most (a working day: the absolute expiry), and
ends sooner when the browser has made no request for ``SESSION_IDLE`` (the idle expiry);
then the browser signs in again. Signing out deletes the row, and so does a new password
(every browser of that user). A page view writes the session's ``last_seen_at`` at most
every ``SEEN_RESOLUTION`` (in a savepoint: when it cannot be written at once, the view goes
on without it); expired rows are deleted when someone signs in.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from yibao.auth.models import User, WebSession
from yibao.clock import as_utc

SESSION_LIFETIME = timedelta(hours=8)
SESSION_IDLE = timedelta(minutes=30)
SEEN_RESOLUTION = timedelta(minutes=5)
_log = logging.getLogger("yibao.auth")


@dataclass(frozen=True, slots=True)
class StartedSession:
    token: str  # for the cookie, shown once
    row: WebSession


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    session: Session, *, user: User, now: datetime, replaces: str | None = None
) -> StartedSession:
    """A new session for ``user`` (always a new token: an earlier one, ``replaces``, ends)."""
    if replaces:
        end_session(session, token=replaces)
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    row = WebSession(
        id=_key(token),
        user_id=user.id,
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
        csrf_secret=secrets.token_hex(32),
    )
    session.add(row)
    session.flush()
    return StartedSession(token=token, row=row)


def session_user(session: Session, *, token: str, now: datetime) -> tuple[User, WebSession] | None:
    """The active user and session behind a cookie's token; None when it is unknown,
    expired (absolute or idle) or its user inactive."""
    if not token or len(token) > 100:
        return None
    found = session.execute(
        select(User, WebSession)
        .join(WebSession, WebSession.user_id == User.id)
        .where(WebSession.id == _key(token))
    ).one_or_none()
    if found is None:
        return None
    user, row = found
    if as_utc(row.expires_at) <= now or not user.active:
        return None
    seen = as_utc(row.last_seen_at or row.created_at)
    if seen + SESSION_IDLE <= now:
        return None
    if seen + SEEN_RESOLUTION <= now:
        _note_seen(session, row, now)
    return user, row


def _note_seen(session: Session, row: WebSession, now: datetime) -> None:
    try:
        with session.begin_nested():
            session.execute(
                update(WebSession)
                .where(WebSession.id == row.id)
                .values(last_seen_at=now)
                .execution_options(synchronize_session=False)
            )
    except DBAPIError as error:  # SQLite busy, a read-only transaction: skipped
        _log.info("a session's last request not recorded: %s", error.orig)
        return
    set_committed_value(row, "last_seen_at", now)


def end_session(session: Session, *, token: str) -> None:
    """Sign one browser out (nothing happens for an unknown token)."""
    session.execute(delete(WebSession).where(WebSession.id == _key(token)))


def end_all_sessions(session: Session, *, user_id: int) -> None:
    """Sign every browser of a user out (a new password, a deactivated user)."""
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))


def end_other_sessions(session: Session, *, user_id: int, keep: str | None) -> None:
    """Sign every other browser of a user out, keeping the one whose token is ``keep``
    (the user changed the password there)."""
    stmt = delete(WebSession).where(WebSession.user_id == user_id)
    if keep:
        stmt = stmt.where(WebSession.id != _key(keep))
    session.execute(stmt)
