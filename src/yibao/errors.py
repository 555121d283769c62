"""One error tree for the whole project.

Services raise :class:`YibaoError` subclasses with a stable ``code``; the edges render
them: the API as ``application/problem+json`` (RFC 9457), the CLI as one line on stderr
and exit status 2. Domain code never chooses an HTTP status; the API maps the class.
"""

from __future__ import annotations

from typing import Any


class YibaoError(Exception):
    """Base of every error a user can cause or see."""

    code: str = "yibao.error"
    title: str = "Request failed"

    def __init__(self, message: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extra = extra

    def __str__(self) -> str:
        return self.message


class InvalidInput(YibaoError):
    """A file or payload that cannot be read: names the source, the place and the reason."""

    code = "input.invalid"
    title = "Invalid input"

    def __init__(self, source: str, where: str, reason: str, *, code: str | None = None) -> None:
        place = f"{source}: {where}" if where else source
        super().__init__(f"{place}: {reason}", code=code)
        self.source = source
        self.where = where
        self.reason = reason


class NotFound(YibaoError):
    code = "not_found"
    title = "Not found"


class Gone(YibaoError):
    """Something that existed is no longer there (a document whose stored file is missing)."""

    code = "gone"
    title = "Gone"


class Forbidden(YibaoError):
    code = "forbidden"
    title = "Forbidden"


class Unauthorized(YibaoError):
    code = "unauthorized"
    title = "Not authenticated"


class Conflict(YibaoError):
    code = "conflict"
    title = "Conflict"


class InvalidTransition(Conflict):
    """A workflow move the transition table does not allow; lists the allowed moves."""

    code = "state.invalid_transition"
    title = "Transition not allowed"

    def __init__(self, entity: str, state: str, action: str, allowed: list[str]) -> None:
        super().__init__(
            f"cannot {action}: the {entity} is {state}; "
            f"allowed now: {', '.join(allowed) or 'nothing'}",
            allowed=allowed,
            state=state,
            action=action,
        )
        self.allowed = allowed


class ValidationFailed(YibaoError):
    """A well-formed request that breaks a business rule."""

    code = "validation.failed"
    title = "Validation failed"
