"""Four-eyes approvals (双人复核).

Crediting a personal account by hand, confirming a clearing month and other acts that move
money no engine computed are not done by one person: the first user's request is stored
as a pending :class:`Approval`, and a *different* user who may make the same request
approves (the act is then carried out, in the approver's transaction) or rejects it.

The concept that owns the act registers a :class:`ApprovalKind` (who may request and
decide, and how to carry it out); this module knows none of them by name.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from yibao.approvals.models import Approval
from yibao.audit.service import record
from yibao.auth.models import User
from yibao.errors import Conflict, Forbidden, NotFound, ValidationFailed


@dataclass(frozen=True, slots=True)
class ApprovalKind:
    """An act that needs two people.

    ``may_decide(session, user, payload)`` says whether ``user`` may make (and so approve)
    this request; ``carry_out(session, payload, approval, user)`` does the act once
    approved, as of ``approval.decided_at``, and returns a JSON-ready result.
    """

    name: str
    may_decide: Callable[[Session, User, Mapping[str, Any]], bool]
    carry_out: Callable[[Session, Mapping[str, Any], Approval, User], Mapping[str, Any]]


_KINDS: dict[str, ApprovalKind] = {}


def register_kind(kind: ApprovalKind) -> ApprovalKind:
    _KINDS[kind.name] = kind
    return kind


def _kind(name: str) -> ApprovalKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise ValidationFailed(f"unknown approval kind {name!r}", code="approval.kind") from None


def request_approval(
    session: Session,
    *,
    kind: str,
    subject: str,
    summary: str,
    payload: Mapping[str, Any],
    region_code: str | None,
    actor: User,
    now: datetime | None = None,
) -> Approval:
    """Store the first user's request; nothing else happens until a second user approves.

    The same pending request (kind, subject, payload) is not stored twice: asking again
    returns the pending one.
    """
    what = _kind(kind)
    if not what.may_decide(session, actor, payload):
        raise Forbidden(f"you may not request {kind}", code="approval.forbidden")
    text = json.dumps(dict(payload), sort_keys=True, ensure_ascii=False)
    pending = session.scalars(
        select(Approval).where(
            Approval.kind == kind,
            Approval.subject == subject,
            Approval.payload == text,
            Approval.state == "pending",
        )
    ).first()
    if pending is not None:
        return pending
    approval = Approval(
        kind=kind,
        subject=subject,
        summary=summary[:400],
        payload=text,
        region_code=region_code,
        agency_id=actor.agency_id,
        state="pending",
        requested_by=actor.id,
        requested_at=now or datetime.now(UTC),
    )
    session.add(approval)
    session.flush()
    record(
        session,
        actor=actor,
        action="approval.requested",
        entity="approval",
        entity_id=approval.id,
        before=None,
        after={"kind": kind, "subject": subject, "summary": approval.summary},
    )
    return approval


def _decidable(session: Session, actor: User, approval_id: int) -> tuple[Approval, ApprovalKind]:
    approval = session.get(Approval, approval_id, with_for_update=True)
    if approval is None:
        raise NotFound(f"approval {approval_id} not found", code="approval.not_found")
    what = _kind(approval.kind)
    if not what.may_decide(session, actor, json.loads(approval.payload)):
        raise NotFound(f"approval {approval_id} not found", code="approval.not_found")
    if approval.requested_by == actor.id:
        raise Forbidden(
            "a second person must decide: you made this request yourself",
            code="approval.same_user",
        )
    if approval.state != "pending":
        raise Conflict(
            f"approval {approval_id} is already {approval.state}", code="approval.decided"
        )
    return approval, what


def approve(
    session: Session, *, actor: User, approval_id: int, now: datetime | None = None
) -> Approval:
    """A second user approves: the act is carried out now, in this transaction."""
    approval, what = _decidable(session, actor, approval_id)
    approval.decided_at = now or datetime.now(UTC)  # the act happens at this moment
    result = what.carry_out(session, json.loads(approval.payload), approval, actor)
    approval.state = "approved"
    approval.decided_by = actor.id
    approval.result = json.dumps(dict(result), ensure_ascii=False, default=str)
    session.flush()
    record(
        session,
        actor=actor,
        action="approval.approved",
        entity="approval",
        entity_id=approval.id,
        before={"state": "pending", "requested_by": approval.requested_by},
        after={"state": "approved", "kind": approval.kind, "subject": approval.subject},
    )
    return approval


def reject(
    session: Session,
    *,
    actor: User,
    approval_id: int,
    reason: str,
    now: datetime | None = None,
) -> Approval:
    approval, _ = _decidable(session, actor, approval_id)
    approval.state = "rejected"
    approval.decided_by = actor.id
    approval.decided_at = now or datetime.now(UTC)
    approval.reason = reason[:400]
    session.flush()
    record(
        session,
        actor=actor,
        action="approval.rejected",
        entity="approval",
        entity_id=approval.id,
        before={"state": "pending", "requested_by": approval.requested_by},
        after={"state": "rejected", "reason": approval.reason},
    )
    return approval


def get_approval(session: Session, *, actor: User, approval_id: int) -> Approval:
    approval = session.get(Approval, approval_id)
    if approval is None or not _KINDS[approval.kind].may_decide(
        session, actor, json.loads(approval.payload)
    ):
        raise NotFound(f"approval {approval_id} not found", code="approval.not_found")
    return approval


def approved_requests(session: Session, *, kind: str, subject: str) -> list[dict[str, Any]]:
    """The payloads of the approved requests of ``kind`` about ``subject``, oldest first."""
    rows = session.scalars(
        select(Approval.payload)
        .where(Approval.kind == kind, Approval.subject == subject, Approval.state == "approved")
        .order_by(Approval.id)
    )
    return [json.loads(text) for text in rows]


def pending_requests(session: Session, *, kind: str, subject: str) -> list[Approval]:
    """The requests of ``kind`` about ``subject`` still waiting for a second user, newest
    first."""
    return list(
        session.scalars(
            select(Approval)
            .where(Approval.kind == kind, Approval.subject == subject, Approval.state == "pending")
            .order_by(Approval.id.desc())
        )
    )


def list_approvals(
    session: Session, *, actor: User, state: str | None = "pending", limit: int = 100
) -> Sequence[Approval]:
    """The requests ``actor`` may decide (or has made), newest first."""
    stmt = select(Approval).order_by(Approval.id.desc())
    if state is not None:
        stmt = stmt.where(Approval.state == state)
    if actor.role != "admin":
        # the requests of the actor's region (each kind then says who decides), and its own
        stmt = stmt.where(
            or_(Approval.region_code == actor.region_code, Approval.requested_by == actor.id)
            if actor.region_code is not None
            else Approval.requested_by == actor.id
        )
    rows = session.scalars(stmt.limit(limit * 4)).all()
    return [a for a in rows if _KINDS[a.kind].may_decide(session, actor, json.loads(a.payload))][
        :limit
    ]


def user_names(session: Session, approvals: Sequence[Approval]) -> dict[int, str]:
    """The names of the users who asked for and decided ``approvals``, in one query."""
    ids = {a.requested_by for a in approvals} | {a.decided_by for a in approvals if a.decided_by}
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.name).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in rows}
