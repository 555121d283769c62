"""Server-side web sessions: a signed-in browser holds a random token in a cookie.

The row is found by the token's SHA-256, so a copy of the table signs nobody in. A session
lives ``SESSION_LIFETIME`` from sign-in (a working day), then the browser signs in again;
signing out deletes the row, and so does a new password (every browser of that user).
Reading a session never writes (a page view is a read-only transaction); expired rows are
deleted when someone signs in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from yibao.auth.models import User, WebSession
from yibao.clock import as_utc

SESSION_LIFETIME = timedelta(hours=8)


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
    expired or its user inactive."""
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
    return user, row


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
