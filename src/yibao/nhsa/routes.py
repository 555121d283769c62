"""``POST /fsi/api/rsfComIfsService/callService``: the one route of the national interface.

Outside ``/api/v1`` and the OpenAPI document. Every answer is the platform's envelope with
HTTP 200, a failure included (``infcode`` -1 and a clear ``err_msg``), never a 500: a
refused gateway check, an unreadable message, another institution's code, an unknown
``infno``, a step out of order, a rule of a service. A refused message changes nothing:
its transaction is rolled back (only the gateway's record of the nonce stays, so the same
signed headers cannot be replayed).

One request, in order: the gateway check (nonce recorded), the envelope, the
institution's own ``fixmedins_code``, the transaction, run exactly once by ``msgid`` when it
changes something (:func:`yibao.settlements.idempotency.run_once`, key = msgid, request
hash over infno + the normalised input), then the answer.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from yibao.auth.deps import SessionDep
from yibao.errors import YibaoError
from yibao.nhsa import envelope as env
from yibao.nhsa.gateway import Caller, authenticate, keep_nonce
from yibao.nhsa.transactions import Context, load_all
from yibao.settlements import idempotency

PATH = "/fsi/api/rsfComIfsService/callService"
MEDIA_TYPE = "application/json; charset=utf-8"

log = logging.getLogger("yibao.nhsa")
router = APIRouter(include_in_schema=False)
TRANSACTIONS = load_all()


async def get_now() -> datetime:
    """The gateway's clock; tests override this dependency."""
    return datetime.now(UTC)


Now = Annotated[datetime, Depends(get_now)]


class Refused(Exception):
    """A message answered with infcode -1 (the reason is ``err_msg``)."""

    def __init__(self, message: str, area: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.area = area


@router.post(PATH)
async def call_service(request: Request, session: SessionDep, now: Now) -> Response:
    received = now
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    settings = getattr(request.app.state, "settings", None)
    secret_key = getattr(settings, "secret_key", "")
    local_use = getattr(settings, "policy_local_use_while_filed", None)
    text = await run_in_threadpool(_serve, session, headers, body, secret_key, local_use, received)
    return Response(content=text, media_type=MEDIA_TYPE)


def _serve(
    session: Session,
    headers: dict[str, str],
    body: bytes,
    secret_key: str,
    local_use: bool | None,
    received: datetime,
) -> str:
    area: str | None = None
    kept: Caller | None = None  # authenticated: its nonce stays used, even if refused
    started = time.monotonic()

    def responded() -> datetime:
        return received + timedelta(seconds=time.monotonic() - started)

    try:
        # A nonce raced in by another request is refused by the database there.
        caller = authenticate(session, headers=headers, secret_key=secret_key, now=received)
        kept = caller
        if not env.content_type_accepted(headers.get("content-type")):
            raise Refused(
                f"Content-Type {headers.get('content-type')!r} is not accepted: "
                "application/json (any charset) or text/plain"
            )
        envelope = env.parse_envelope(env.read_json(body))
        area = envelope.mdtrtarea_admvs or caller.institution.region_code
        if envelope.fixmedins_code != caller.institution.code:
            raise Refused(
                f"fixmedins_code {envelope.fixmedins_code!r} is not the institution of pass id "
                f"{caller.pass_id} ({caller.institution.code}): a message is sent in the "
                "authenticated institution's own name",
                area,
            )
        found = TRANSACTIONS.get(envelope.infno)
        if found is None:
            raise Refused(
                f"infno {envelope.infno} is not a transaction of this interface; supported: "
                + ", ".join(sorted(TRANSACTIONS)),
                area,
            )
        ctx = Context(
            session=session,
            user=caller.user,
            institution=caller.institution,
            envelope=envelope,
            now=received,
            local_use_while_filed=local_use,
        )

        def operation() -> tuple[int, str]:
            output = found.handler(ctx)
            warn = "; ".join(ctx.warnings) or None
            return 0, env.dumps(warn) + "\n" + env.dumps(output)

        if found.once:
            digest = idempotency.request_hash(
                "NHSA", envelope.infno, env.normalised_input(envelope)
            )
            try:
                stored = idempotency.run_once(
                    session,
                    user_id=caller.user.id,
                    key=envelope.msgid,
                    digest=digest,
                    operation=operation,
                )
            except YibaoError as exc:
                if exc.code == "idempotency.key_reused":
                    raise Refused(
                        f"msgid {envelope.msgid} was already used for a different message; "
                        "a new message needs a new msgid",
                        area,
                    ) from None
                raise
            stored_text = stored.body
        else:
            stored_text = operation()[1]
        warn_text, output_text = stored_text.split("\n", 1)
        session.flush()
        return env.answer_text(
            infcode=0,
            refmsgid=env.ref_msg_id(area, received),
            received=received,
            responded=responded(),
            output_text=output_text,
            warn_msg=_warn(warn_text),
        )
    except Refused as exc:
        return _refusal(session, exc.message, exc.area or area, received, responded(), kept)
    except YibaoError as exc:
        return _refusal(session, f"[{exc.code}] {exc.message}", area, received, responded(), kept)
    except DBAPIError as exc:
        log.warning("nhsa: the database refused a message: %s", type(exc.orig).__name__)
        return _refusal(
            session,
            "[db.refused] the database refused the change; nothing was stored",
            area,
            received,
            responded(),
            kept,
        )
    except Exception:  # never a 500: the platform answers every message in its envelope
        log.exception("nhsa: unexpected failure")
        return _refusal(
            session,
            "[internal] an unexpected error; nothing was stored",
            area,
            received,
            responded(),
            kept,
        )


def _warn(text: str) -> str | None:
    value: Any = json.loads(text)
    return value if isinstance(value, str) else None


def _refusal(
    session: Session,
    message: str,
    area: str | None,
    received: datetime,
    responded: datetime,
    caller: Caller | None,
) -> str:
    session.rollback()
    if caller is not None:
        keep_nonce(session, pass_id=caller.pass_id, nonce=caller.nonce, now=received)
    return env.answer_text(
        infcode=-1,
        refmsgid=env.ref_msg_id(area, received),
        received=received,
        responded=responded,
        output_text="null",
        err_msg=message,
    )
