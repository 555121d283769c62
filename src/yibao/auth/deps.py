"""Request dependencies: the session (one transaction per request) and the caller.

``SessionDep`` opens ``session_scope``: it commits when the route returns, before the
response is written (``scope="function"``), so a failed commit is an error response and
never a success. ``CurrentUser`` needs a valid bearer token (unexpired, not revoked; too
many failures from one address answer 429, :mod:`yibao.auth.ratelimit`); ``require_roles``
also checks the role and works both as ``dependencies=[require_roles(...)]`` and as
``user: Annotated[User, require_roles(...)]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from yibao.auth.models import ROLES, User
from yibao.auth.tokens import authenticate
from yibao.db import begin_for_writing, session_scope
from yibao.engine.phrases import Lang, choose_language
from yibao.errors import Forbidden, Unauthorized

_bearer = HTTPBearer(auto_error=False, description="Token from `yibao users create`")


_READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_session(request: Request) -> Iterator[Session]:
    with session_scope(request.app.state.session_factory) as session:
        if request.method not in _READ_ONLY_METHODS:
            begin_for_writing(session)
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def client_address(request: Request) -> str | None:
    """The caller's address, as the server saw it (behind a reverse proxy, uvicorn's
    ``--forwarded-allow-ips`` must name the proxy, so that this is the client's and not the
    proxy's: failed sign-ins are counted per address)."""
    return request.client.host if request.client is not None else None


def get_current_user(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None:
        raise Unauthorized("a bearer token is required", code="auth.missing_token")
    return authenticate(session, token=credentials.credentials, client=client_address(request))


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_roles(*roles: str) -> Any:
    """A dependency returning the current user when their role is one of ``roles``."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")

    # async: a check without I/O runs on the event loop, not in a worker thread of its own
    # (each thread hop costs a wake-up and a GIL hand-over on every request).
    async def _check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden(
                f"role {user.role!r} may not do this; allowed: {', '.join(roles)}",
                code="auth.role_forbidden",
            )
        return user

    return Depends(_check)


def explanation_language(
    lang: Annotated[
        Literal["zh", "en"] | None,
        Query(description="Language of explanations: zh (default) or en"),
    ] = None,
    accept_language: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Lang:
    """``?lang=`` first, then ``Accept-Language``, else Chinese."""
    return choose_language(lang, accept_language)


LangDep = Annotated[Lang, Depends(explanation_language)]
