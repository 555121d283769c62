"""``yibao reimbursements`` and ``yibao audit-checks``: the same use cases, roles and audit
log as the API. Every command acts as the user whose token is given (``--token`` or
``YIBAO_TOKEN``), with the roles the matching route accepts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from pydantic import ValidationError
from sqlalchemy.orm import Session

from yibao.auth.models import User
from yibao.auth.tokens import authenticate
from yibao.claim_checks import service as claim_checks
from yibao.commands import TokenOpt, command_session, load_settings, reports_errors
from yibao.documents import service as documents
from yibao.errors import Forbidden, InvalidInput
from yibao.reimbursements import service
from yibao.reimbursements.letter import letter_pdf
from yibao.reimbursements.routes import read_claim
from yibao.reimbursements.schemas import ReimbursementAmend, ReimbursementCreate

app = typer.Typer(help="Manual reimbursement (零星报销) claims.", no_args_is_help=True)
audit_app = typer.Typer(help="Audit checks (稽核) of claims and settlements.", no_args_is_help=True)

CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
}
# The roles of the API's routes (yibao.reimbursements.routes): readers, submitters, reviewers.
READERS = ("insured", "unit", "street_office", "agency", "admin")
SUBMITTERS = service.SUBMITTERS
REVIEWERS = service.REVIEWERS

ClaimId = Annotated[int, typer.Argument(help="The reimbursement claim's id.")]


def _user(session: Session, token: str, roles: tuple[str, ...]) -> User:
    user = authenticate(session, token=token)
    if user.role not in roles:
        raise Forbidden(
            f"role {user.role!r} may not do this; allowed: {', '.join(roles)}",
            code="auth.role_forbidden",
        )
    return user


def _show(session: Session, claim: Any) -> None:
    typer.echo(read_claim(session, claim).model_dump_json(indent=2))


def _read_claim_file(path: Path) -> ReimbursementCreate:
    try:
        return ReimbursementCreate.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(str(path), "", exc.strerror or str(exc)) from None
    except UnicodeDecodeError:
        raise InvalidInput(str(path), "", "not UTF-8 text") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise InvalidInput(str(path), where, f"{first['msg']}{more}") from None


@app.command("submit")
@reports_errors
def submit(
    claim_file: Annotated[Path, typer.Argument(help="The claim as JSON (see the API schema).")],
    token: TokenOpt,
) -> None:
    """Submit a claim with its invoices, fee lines and diagnoses; prints it."""
    data = _read_claim_file(claim_file)
    with command_session() as session:
        user = _user(session, token, SUBMITTERS)
        _show(session, service.submit_claim(session, actor=user, data=data))


@app.command("upload")
@reports_errors
def upload(
    claim_id: ClaimId,
    doc_type: Annotated[
        str, typer.Argument(help="Document type, e.g. receipt, detailed_list or prescription.")
    ],
    file: Annotated[Path, typer.Argument(help="The document: a PDF, JPEG or PNG file.")],
    token: TokenOpt,
) -> None:
    """Attach a document (PDF, JPEG or PNG) to an open claim."""
    settings = load_settings()
    content_type = CONTENT_TYPES.get(file.suffix.lower(), "application/octet-stream")
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InvalidInput(str(file), "", exc.strerror or str(exc)) from None
    with command_session(settings) as session:
        doc = service.upload_document(
            session,
            actor=_user(session, token, SUBMITTERS),
            claim_id=claim_id,
            upload=documents.Upload(
                doc_type=doc_type,
                filename=file.name,
                content_type=content_type,
                data=data,
                upload_dir=settings.upload_dir,
                max_bytes=settings.upload_max_bytes,
            ),
        )
        typer.echo(f"document {doc.id} ({doc.doc_type}) attached to claim {claim_id}")


@app.command("list")
@reports_errors
def list_claims(
    token: TokenOpt,
    state: Annotated[str | None, typer.Option(help="Only claims in this state.")] = None,
    queue: Annotated[bool, typer.Option(help="Only claims awaiting review.")] = False,
) -> None:
    """Claims the user may see: id, state, person, case, setting, treatment date, regions."""
    with command_session() as session:
        user = _user(session, token, READERS)
        for c in service.list_claims(session, actor=user, state=state, queue=queue):
            typer.echo(
                f"{c.id}\t{c.state}\tperson {c.person_id}\t{c.case_type}\t{c.setting}\t"
                f"{c.treatment_date}\t{c.insured_region}<-{c.treatment_region}"
            )


@app.command("show")
@reports_errors
def show(claim_id: ClaimId, token: TokenOpt) -> None:
    """One claim with documents, audit findings (with evidence) and its settlement."""
    with command_session() as session:
        user = _user(session, token, READERS)
        _show(session, service.get_claim(session, actor=user, claim_id=claim_id))


@app.command("resubmit")
@reports_errors
def resubmit(
    claim_id: ClaimId,
    token: TokenOpt,
    diagnosis: Annotated[
        list[str] | None, typer.Option(help="Add a diagnosis (repeatable).")
    ] = None,
) -> None:
    """Hand a returned claim back once the missing documents are attached."""
    amend = ReimbursementAmend(diagnoses=diagnosis or [])
    with command_session() as session:
        user = _user(session, token, SUBMITTERS)
        claim = service.resubmit_claim(session, actor=user, claim_id=claim_id, amend=amend)
        _show(session, claim)


@app.command("review")
@reports_errors
def review(claim_id: ClaimId, token: TokenOpt) -> None:
    """Start the review: an incomplete claim is returned with the list of what is missing."""
    with command_session() as session:
        user = _user(session, token, REVIEWERS)
        _show(session, service.start_review(session, actor=user, claim_id=claim_id))


@app.command("return")
@reports_errors
def return_claim(
    claim_id: ClaimId,
    token: TokenOpt,
    missing: Annotated[
        list[str] | None, typer.Option(help="A missing document type (repeatable).")
    ] = None,
    note: Annotated[str | None, typer.Option(help="A note to the claimant.")] = None,
) -> None:
    """Return the claim listing what is missing (everything submitted is kept)."""
    with command_session() as session:
        user = _user(session, token, REVIEWERS)
        claim = service.return_claim(
            session, actor=user, claim_id=claim_id, missing=missing, note=note
        )
        _show(session, claim)


@app.command("approve")
@reports_errors
def approve(claim_id: ClaimId, token: TokenOpt) -> None:
    """Approve: the engine settles it with the insured region's policy and is recorded."""
    with command_session() as session:
        user = _user(session, token, REVIEWERS)
        _show(session, service.approve_claim(session, actor=user, claim_id=claim_id))


@app.command("reject")
@reports_errors
def reject(
    claim_id: ClaimId,
    reason: Annotated[str, typer.Argument(help="Why the claim is rejected (kept and shown).")],
    token: TokenOpt,
) -> None:
    """Reject with a reason."""
    with command_session() as session:
        user = _user(session, token, REVIEWERS)
        _show(session, service.reject_claim(session, actor=user, claim_id=claim_id, reason=reason))


@app.command("pay")
@reports_errors
def pay(
    claim_id: ClaimId,
    token: TokenOpt,
    reference: Annotated[
        str | None, typer.Option(help="The payment's reference (default: RB + claim id).")
    ] = None,
    collector_name: Annotated[
        str | None, typer.Option(help="Cash payout: the name of who collects it.")
    ] = None,
    collector_identity: Annotated[
        str | None, typer.Option(help="Cash payout: the collector's identity number.")
    ] = None,
    collector_relation: Annotated[
        str | None, typer.Option(help="Cash payout: the collector's relation to the person.")
    ] = None,
) -> None:
    """Record the payout (cash to a family member needs the collector's identity)."""
    with command_session() as session:
        claim = service.pay_claim(
            session,
            actor=_user(session, token, REVIEWERS),
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
    claim_id: ClaimId,
    token: TokenOpt,
    out: Annotated[Path, typer.Option("--out", help="Where to write the PDF.")],
) -> None:
    """Write the decision letter (PDF) of a decided claim."""
    with command_session() as session:
        user = _user(session, token, READERS)
        data = service.decision_for(session, actor=user, claim_id=claim_id)
    out.write_bytes(letter_pdf(data))
    typer.echo(f"decision letter of claim {claim_id} written to {out}")


@audit_app.command("run")
@reports_errors
def run(
    token: TokenOpt,
    month: Annotated[str | None, typer.Option(help="Only this month, YYYY-MM.")] = None,
) -> None:
    """Check the direct settlements not checked yet (the insured region's centre, admins)."""
    with command_session() as session:
        user = _user(session, token, REVIEWERS)
        checked, found = claim_checks.run_checks_for(
            session, actor=user, year_month=month, now=datetime.now(UTC)
        )
    typer.echo(f"{checked} settlements checked, {found} findings")


@audit_app.command("findings")
@reports_errors
def findings(
    token: TokenOpt,
    kind: Annotated[
        Literal["reimbursement", "settlement"],
        typer.Option(help="What was checked: reimbursement or settlement."),
    ],
    subject_id: Annotated[int, typer.Option("--id", help="The claim's or settlement's id.")],
) -> None:
    """Findings of one claim or settlement the user may see, with their evidence (JSON
    lines)."""
    with command_session() as session:
        user = _user(session, token, REVIEWERS)
        rows = claim_checks.list_findings(
            session, actor=user, subject_kind=kind, subject_id=subject_id
        )
        for row in rows:
            typer.echo(
                json.dumps(
                    {"code": row.code, "message": row.message, "evidence": row.evidence},
                    ensure_ascii=False,
                )
            )
