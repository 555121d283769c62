"""Running the audit checks on stored claims and settlements, and keeping their findings.

The checks themselves are pure (:mod:`yibao.claim_checks.checks`); this module turns a stored
reimbursement claim or direct settlement into an :class:`AuditSubject`, gathers what the
person (and, for invoice numbers, anyone) already has on record, runs every check and
replaces the subject's stored findings. Direct settlements are checked by
:func:`audit_settlements` (a sweep over those not yet checked), which the reviewer's view
and the monthly clearing run call, so every settlement is checked before it is cleared.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from yibao.claim_checks import access
from yibao.claim_checks import repository as repo
from yibao.claim_checks.checks import (
    AuditLine,
    AuditSubject,
    Invoice,
    PriorRecord,
    run_checks,
)
from yibao.claim_checks.models import AuditFinding
from yibao.claim_checks.rules import audit_rules_for
from yibao.errors import NotFound
from yibao.invoices import normalise_invoice_number
from yibao.money import from_e4, from_fen
from yibao.registry.access import Actor
from yibao.registry.models import Person
from yibao.settlements.models import SettlementRecord


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _person(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"person {person_id} not found", code="person.not_found")
    return person


# --- subjects and history from the database --------------------------------------------------


def _settlement_refs(record: SettlementRecord) -> tuple[str, ...]:
    """The numbers a receipt of a direct settlement carries: its invoice number (when the
    hospital sent one), claim id and message id."""
    refs = [record.invoice_no] if record.invoice_no else []
    refs.append(normalise_invoice_number(record.claim_id))
    if record.msg_id:
        refs.append(normalise_invoice_number(record.msg_id))
    return tuple(dict.fromkeys(refs))


def _settlement_lines(session: Session, ids: Sequence[int]) -> dict[int, tuple[AuditLine, ...]]:
    by_settlement: dict[int, list[AuditLine]] = defaultdict(list)
    for line in repo.settlement_lines(session, ids):
        by_settlement[line.settlement_id].append(
            AuditLine(
                code=line.code,
                quantity=from_e4(line.quantity_e4),
                unit_price=from_e4(line.unit_price_e4),
                line_id=line.line_id,
            )
        )
    return {key: tuple(value) for key, value in by_settlement.items()}


def _settlement_records(
    session: Session, settlements: Sequence[SettlementRecord]
) -> list[PriorRecord]:
    lines = _settlement_lines(session, [s.id for s in settlements])
    encounters = repo.encounters(session, {s.encounter_id for s in settlements if s.encounter_id})
    records = []
    for s in settlements:
        encounter = encounters.get(s.encounter_id) if s.encounter_id else None
        inpatient = s.setting == "inpatient"
        records.append(
            PriorRecord(
                kind="settlement",
                ref=str(s.id),
                person_id=str(s.person_id),
                setting=s.setting,
                treatment_date=s.claim_date,
                invoice_numbers=_settlement_refs(s),
                admitted_on=encounter.started_on if inpatient and encounter else None,
                discharged_on=s.claim_date if inpatient else None,
                lines=lines.get(s.id, ()),
            )
        )
    return records


HistorySource = Callable[[Session, AuditSubject, set[str]], list[PriorRecord]]
_HISTORY_SOURCES: list[HistorySource] = []


def register_history_source(source: HistorySource) -> HistorySource:
    """Add what another concept keeps on record (manual claims already reimbursed): called
    with the subject and its normalised invoice numbers; usable as a decorator."""
    if source not in _HISTORY_SOURCES:
        _HISTORY_SOURCES.append(source)
    return source


def history_for(session: Session, subject: AuditSubject) -> list[PriorRecord]:
    """Everything on record that counts: the person's standing direct settlements and
    anyone's that carry one of the subject's invoice numbers, and what every registered
    source adds (the reimbursed claims)."""
    person_id = int(subject.person_id)
    numbers = {normalise_invoice_number(i.number) for i in subject.invoices}
    settlements = {
        s.id: s
        for s in [
            *repo.live_settlements_of(session, person_id=person_id),
            *repo.live_settlements_by_refs(session, refs=numbers),
        ]
    }
    others = [record for source in _HISTORY_SOURCES for record in source(session, subject, numbers)]
    return [*others, *_settlement_records(session, [settlements[k] for k in sorted(settlements)])]


def settlement_subject(session: Session, settlement: SettlementRecord) -> AuditSubject:
    person = _person(session, settlement.person_id)
    [record] = _settlement_records(session, [settlement])
    return AuditSubject(
        kind="settlement",
        ref=str(settlement.id),
        person_id=str(settlement.person_id),
        sex=person.sex,
        birth_date=person.birth_date,
        treatment_region=settlement.treatment_region,
        setting=settlement.setting,
        treatment_date=settlement.claim_date,
        lines=record.lines,
        invoices=tuple(
            Invoice(n, from_fen(settlement.total_fen)) for n in record.invoice_numbers[:1]
        ),
        declared_total=None,
        admitted_on=record.admitted_on,
        discharged_on=record.discharged_on,
    )


# --- running and storing ---------------------------------------------------------------------


def check_subject(
    session: Session, subject: AuditSubject, *, insured_region: str, now: datetime | None
) -> list[AuditFinding]:
    """Run every check on ``subject``; its stored findings are replaced."""
    found = run_checks(
        subject,
        history=history_for(session, subject),
        rules=audit_rules_for(insured_region),
    )
    subject_id = int(subject.ref)
    at = _now(now)
    # the run row first, locked: a concurrent check of the same subject waits here
    run = repo.claim_run(session, subject_kind=subject.kind, subject_id=subject_id, at=at)
    repo.clear_findings(session, subject_kind=subject.kind, subject_id=subject_id)
    rows = [
        AuditFinding(
            subject_kind=subject.kind,
            subject_id=subject_id,
            person_id=int(subject.person_id),
            code=f.code,
            message=f.message[:400],
            evidence=dict(f.evidence),
            found_at=at,
        )
        for f in found
    ]
    session.add_all(rows)
    run.ran_at = at
    run.findings = len(rows)
    session.flush()
    return rows


def audit_settlement(
    session: Session, *, settlement: SettlementRecord, now: datetime | None = None
) -> list[AuditFinding]:
    """Run every check on a direct settlement; its stored findings are replaced."""
    return check_subject(
        session,
        settlement_subject(session, settlement),
        insured_region=settlement.insured_region,
        now=now,
    )


def audit_settlements(
    session: Session,
    *,
    year_month: str | None = None,
    only_unaudited: bool = True,
    now: datetime | None = None,
) -> tuple[int, int]:
    """Check the direct settlements not checked yet (of a month, or all): (checked, findings)."""
    checked = found = 0
    for settlement in repo.settlements_of_month(
        session, year_month=year_month, only_unaudited=only_unaudited
    ):
        found += len(audit_settlement(session, settlement=settlement, now=now))
        checked += 1
    return checked, found


def list_findings(
    session: Session,
    *,
    actor: Actor,
    subject_kind: str | None = None,
    subject_id: int | None = None,
    person_id: int | None = None,
) -> list[AuditFinding]:
    """Findings of one subject or of one person, as far as ``actor`` may see them."""
    if subject_kind is not None and subject_id is not None:
        rows = findings_for(session, subject_kind=subject_kind, subject_id=subject_id)
    elif person_id is not None:
        rows = repo.findings_of_person(session, person_id=person_id)
    else:
        rows = []
    return access.visible_findings(session, actor, rows)


def run_checks_for(
    session: Session, *, actor: Actor, year_month: str | None, now: datetime
) -> tuple[int, int]:
    """Check the direct settlements not checked yet (a centre or an admin asks)."""
    access.require_checker(session, actor)
    return audit_settlements(session, year_month=year_month, now=now)


def findings_for(session: Session, *, subject_kind: str, subject_id: int) -> list[AuditFinding]:
    return repo.findings(session, subject_kind=subject_kind, subject_id=subject_id)
