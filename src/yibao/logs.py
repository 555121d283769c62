"""Log lines an operator can search: one JSON object per line (or plain text), each with
the request it belongs to.

A request's id and user live in :data:`REQUEST`, a context variable the API's request
middleware (:mod:`yibao.api.observability`) sets for the request's lifetime; every record
written meanwhile — by Yibao, SQLAlchemy, uvicorn — carries ``request_id`` (and
``user_id`` once known), whichever thread writes it (FastAPI runs sync routes in worker
threads with a copy of the context, which holds the same :class:`RequestContext`).

No personal data: every message goes through :func:`yibao.identity.mask_identity_numbers`
once more when it is formatted (the record factory installed by
:func:`yibao.identity.install_log_masking` masks the parts; this masks the whole), and
the request line names the route template (``/api/v1/persons/{person_id}``), never the
path or its query string.

``yibao serve --log-format json|text`` (``YIBAO_LOG_FORMAT``) picks the format; uvicorn
gets :func:`logging_config` as its ``log_config``, so each worker process of ``--workers``
configures itself the same way. Standard library only (and :mod:`yibao.identity`).
"""

from __future__ import annotations

import json
import logging
import logging.config
import os
import re
import secrets
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, Literal

from yibao.identity import install_log_masking, mask_identity_numbers

LogFormat = Literal["json", "text"]
LOG_FORMATS: Final = ("json", "text")


class LogFormatChoice(StrEnum):
    """The choices of ``yibao serve --log-format``."""

    json = "json"
    text = "text"


REQUEST_LOGGER: Final = "yibao.request"
"""The logger of the one line per request (``message`` is ``"request"``)."""

# What a client may send as its own X-Request-ID: short, printable, no spaces, nothing a
# log reader could mistake for structure. Anything else is replaced by a generated id.
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$")


@dataclass(slots=True)
class RequestContext:
    """What the log knows about the request being served. Mutable on purpose: the
    middleware sets it once, and code deeper down (the signed-in user, found in a worker
    thread) fills in ``user_id`` on the same object."""

    request_id: str
    user_id: int | None = None


REQUEST: ContextVar[RequestContext | None] = ContextVar("yibao_request", default=None)


def new_request_id() -> str:
    return secrets.token_hex(16)


def sane_request_id(value: str | None) -> str | None:
    """The client's ``X-Request-ID`` when it is safe to log and echo, else None.

    Refused: empty, longer than 128 characters, spaces or control characters, and anything
    holding an identity number (an id is echoed and logged verbatim)."""
    if not value or not _SANE_REQUEST_ID.match(value):
        return None
    if mask_identity_numbers(value) != value:
        return None
    return value


def current_request_id() -> str | None:
    context = REQUEST.get()
    return context.request_id if context else None


def bind_user(user_id: int | None) -> None:
    """Name the signed-in user of the current request in its log lines."""
    context = REQUEST.get()
    if context is not None and user_id is not None:
        context.user_id = user_id


_REQUEST_IDS_INSTALLED = False


def install_request_ids() -> None:
    """Give every log record the process creates ``request_id`` and ``user_id`` from
    :data:`REQUEST` when it is created, whichever logger and handler (tests' ``caplog``
    included) — so a database error logged deep in a request names its request."""
    global _REQUEST_IDS_INSTALLED
    if _REQUEST_IDS_INSTALLED:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        context = REQUEST.get()
        record.request_id = context.request_id if context else None
        record.user_id = context.user_id if context else None
        return record

    logging.setLogRecordFactory(factory)
    _REQUEST_IDS_INSTALLED = True


class RequestIdFilter(logging.Filter):
    """Gives every record ``request_id`` and ``user_id`` (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = REQUEST.get()
        if not hasattr(record, "request_id"):
            record.request_id = context.request_id if context else None
        if not hasattr(record, "user_id"):
            record.user_id = context.user_id if context else None
        return True


# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is a
# field of the JSON line.
_RECORD_ATTRIBUTES: Final = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "request_id", "user_id", "color_message", "taskName"}
)


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRIBUTES}


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_identity_numbers(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _masked(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_masked(v) for v in value]
    return mask_identity_numbers(str(value))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``message``,
    ``request_id``, ``user_id``, the record's ``extra`` fields, and ``error`` (the
    traceback) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_identity_numbers(record.getMessage()),
            "request_id": getattr(record, "request_id", None),
            "user_id": getattr(record, "user_id", None),
        }
        for key, value in _fields(record).items():
            line.setdefault(key, _masked(value))
        if record.exc_info:
            line["error"] = mask_identity_numbers(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time level logger [request_id] message key=value ...`` for a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = None
        text = super().format(record)
        extra = " ".join(f"{k}={_masked(v)}" for k, v in _fields(record).items())
        return mask_identity_numbers(f"{text} {extra}" if extra else text)


def logging_config(log_format: str = "json", level: str = "INFO") -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` for the server (and uvicorn's ``log_config``).

    One handler on the root logger (standard error), so every library's records come out
    the same way. uvicorn's own access log is silenced: it prints the raw path and query
    string, and the request line of :mod:`yibao.api.observability` replaces it."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")
    formatter = "yibao.logs.JsonFormatter" if log_format == "json" else "yibao.logs.TextFormatter"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request": {"()": "yibao.logs.RequestIdFilter"},
            "mask": {"()": "yibao.identity.IdentityMaskingFilter"},
        },
        "formatters": {"yibao": {"()": formatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "yibao",
                "filters": ["request", "mask"],
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
        },
    }


def configure_logging(log_format: str = "json", level: str = "INFO") -> None:
    """Configure this process's logging (the server and its workers; tests leave it)."""
    install_log_masking()
    install_request_ids()
    logging.config.dictConfig(logging_config(log_format, level))


def reset_multiprocess_metrics_dir() -> Path | None:
    """Empty ``PROMETHEUS_MULTIPROC_DIR`` before the workers start (the metrics client
    keeps one file per process there and sums them; a previous run's files would count
    again). None when the variable is unset."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return None
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)
    return path
