"""``yibao reimbursements`` and ``yibao audit-checks``: the same use cases, roles and audit
log as the API. Every command acts as the user whose token is given (``--token`` or
``YIBAO_TOKEN``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from sqlalchemy.orm import Session

from yibao.auth.models import User
from yibao.auth.tokens import authenticate
from yibao.claim_checks import service as claim_checks
from yibao.cli.support import command_session, fail, reports_errors
from yibao.config import get_settings
from yibao.reimbursements import service
from yibao.reimbursements.letter import letter_pdf
from yibao.reimbursements.schemas import ReimbursementAmend, ReimbursementCreate

app = typer.Typer(help="Manual reimbursement (零星报销) claims.", no_args_is_help=True)
audit_app = typer.Typer(help="Audit checks (稽核) of claims and settlements.", no_args_is_help=True)

TokenOpt = Annotated[
    str, typer.Option("--token", envvar="YIBAO_TOKEN", help="Bearer token of the acting user")
]
CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
}


def _user(session: Session, token: str) -> User:
    return authenticate(session, token=token)


def _show(session: Session, claim: Any) -> None:
    from yibao.reimbursements.routes import read_claim

    typer.echo(read_claim(session, claim).model_dump_json(indent=2))


@app.command("submit")
@reports_errors
def submit(
    claim_file: Annotated[Path, typer.Argument(help="The claim as JSON (see the API schema)")],
    token: TokenOpt,
) -> None:
    """Submit a claim with its invoices, fee lines and diagnoses; prints it."""
    try:
        data = ReimbursementCreate.model_validate_json(claim_file.read_text(encoding="utf-8"))
    except (OSError, ValidationError) as exc:
        raise fail(f"{claim_file}: {exc}") from None
    with command_session() as session:
        _show(session, service.submit_claim(session, actor=_user(session, token), data=data))


@app.command("upload")
@reports_errors
def upload(claim_id: int, doc_type: str, file: Path, token: TokenOpt) -> None:
    """Attach a document (PDF, JPEG or PNG) to an open claim."""
    settings = get_settings()
    content_type = CONTENT_TYPES.get(file.suffix.lower(), "application/octet-stream")
    with command_session() as session:
        doc = service.upload_document(
            session,
            actor=_user(session, token),
            claim_id=claim_id,
            doc_type=doc_type,
            filename=file.name,
            content_type=content_type,
            data=file.read_bytes(),
            upload_dir=settings.upload_dir,
            max_bytes=settings.upload_max_bytes,
        )
        typer.echo(f"document {doc.id} ({doc.doc_type}) attached to claim {claim_id}")


@app.command("list")
@reports_errors
def list_claims(
    token: TokenOpt,
    state: Annotated[str | None, typer.Option()] = None,
    queue: Annotated[bool, typer.Option(help="Only claims awaiting review")] = False,
) -> None:
    """Claims the user may see: id, state, person, case, setting, treatment date."""
    with command_session() as session:
        for c in service.list_claims(
            session, actor=_user(session, token), state=state, queue=queue
        ):
            typer.echo(
                f"{c.id}\t{c.state}\tperson {c.person_id}\t{c.case_type}\t{c.setting}\t"
                f"{c.treatment_date}\t{c.insured_region}<-{c.treatment_region}"
            )


@app.command("show")
@reports_errors
def show(claim_id: int, token: TokenOpt) -> None:
    """One claim with documents, audit findings (with evidence) and its settlement."""
    with command_session() as session:
        _show(session, service.get_claim(session, actor=_user(session, token), claim_id=claim_id))


@app.command("resubmit")
@reports_errors
def resubmit(
    claim_id: int,
    token: TokenOpt,
    diagnosis: Annotated[list[str] | None, typer.Option(help="Add a diagnosis")] = None,
) -> None:
    """Hand a returned claim back once the missing documents are attached."""
    amend = ReimbursementAmend(diagnoses=diagnosis or [])
    with command_session() as session:
        claim = service.resubmit_claim(
            session, actor=_user(session, token), claim_id=claim_id, amend=amend
        )
        _show(session, claim)


@app.command("review")
@reports_errors
def review(claim_id: int, token: TokenOpt) -> None:
    """Start the review: an incomplete claim is returned with the list of what is missing."""
    with command_session() as session:
        _show(
            session, service.start_review(session, actor=_user(session, token), claim_id=claim_id)
        )


@app.command("return")
@reports_errors
def return_claim(
    claim_id: int,
    token: TokenOpt,
    missing: Annotated[list[str] | None, typer.Option(help="A missing document type")] = None,
    note: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Return the claim listing what is missing (everything submitted is kept)."""
    with command_session() as session:
        claim = service.return_claim(
            session, actor=_user(session, token), claim_id=claim_id, missing=missing, note=note
        )
        _show(session, claim)


@app.command("approve")
@reports_errors
def approve(claim_id: int, token: TokenOpt) -> None:
    """Approve: the engine settles it with the insured region's policy and is recorded."""
    with command_session() as session:
        claim = service.approve_claim(session, actor=_user(session, token), claim_id=claim_id)
        _show(session, claim)


@app.command("reject")
@reports_errors
def reject(claim_id: int, reason: str, token: TokenOpt) -> None:
    """Reject with a reason."""
    with command_session() as session:
        claim = service.reject_claim(
            session, actor=_user(session, token), claim_id=claim_id, reason=reason
        )
        _show(session, claim)


@app.command("pay")
@reports_errors
def pay(
    claim_id: int,
    token: TokenOpt,
    reference: Annotated[str | None, typer.Option()] = None,
    collector_name: Annotated[str | None, typer.Option()] = None,
    collector_identity: Annotated[str | None, typer.Option()] = None,
    collector_relation: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Record the payout (cash to a family member needs the collector's identity)."""
    with command_session() as session:
        claim = service.pay_claim(
            session,
            actor=_user(session, token),
            claim_id=claim_id,
            reference=reference,
            collector_name=collector_name,
            collector_identity_number=collector_identity,
            collector_relation=collector_relation,
        )
        _show(session, claim)


@app.command("letter")
@reports_errors
def letter(
    claim_id: int,
    token: TokenOpt,
    out: Annotated[Path, typer.Option("--out", help="Where to write the PDF")],
) -> None:
    """Write the decision letter (PDF) of a decided claim."""
    with command_session() as session:
        data = service.decision_for(session, actor=_user(session, token), claim_id=claim_id)
    out.write_bytes(letter_pdf(data))
    typer.echo(f"decision letter of claim {claim_id} written to {out}")


@audit_app.command("run")
@reports_errors
def run(token: TokenOpt, month: Annotated[str | None, typer.Option(help="YYYY-MM")] = None) -> None:
    """Check the direct settlements not checked yet."""
    with command_session() as session:
        user = _user(session, token)
        if user.role not in service.REVIEWERS:
            raise fail("only agencies and admins run the audit checks")
        checked, found = claim_checks.audit_settlements(session, year_month=month)
    typer.echo(f"{checked} settlements checked, {found} findings")


@audit_app.command("findings")
@reports_errors
def findings(
    token: TokenOpt,
    kind: Annotated[str, typer.Option(help="reimbursement or settlement")],
    subject_id: Annotated[int, typer.Option("--id")],
) -> None:
    """Findings of one claim or settlement, with their evidence (JSON lines)."""
    with command_session() as session:
        user = _user(session, token)
        if user.role not in service.REVIEWERS:
            raise fail("only agencies and admins see audit findings")
        rows = claim_checks.findings_for(session, subject_kind=kind, subject_id=subject_id)
        for row in rows:
            typer.echo(
                json.dumps(
                    {"code": row.code, "message": row.message, "evidence": row.evidence},
                    ensure_ascii=False,
                )
            )
