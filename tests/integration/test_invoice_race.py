"""A manual claim approved at the same moment as the hospital settles the same invoice
directly (PostgreSQL, its own fresh database, real concurrent transactions).

Whichever transaction wins, the invoice is paid out once: either the approval sees the
committed settlement and refuses, or the settlement comes after the approval and the
payout then refuses. Both paths are taken over several rounds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.integration.test_reimburse_kit import load_rules
from tests.integration.test_settle_concurrency import pg_url  # noqa: F401  (fixture)
from yibao.db import make_engine, session_scope
from yibao.engine import Claim, ClaimLine
from yibao.errors import YibaoError
from yibao.identity import make_identity_number
from yibao.registry.models import Account, Agency, Institution, Person, Region
from yibao.reimbursements import service as reimbursements
from yibao.reimbursements.models import ReimbursementClaim
from yibao.reimbursements.schemas import InvoiceIn, LineIn, PayoutIn, ReimbursementCreate
from yibao.settlements.inputs import institution_info, person_info
from yibao.settlements.models import SettlementRecord
from yibao.settlements.service import record_settlement
from yibao.users.service import create_user

ROUNDS = 4
NOW = datetime(2026, 6, 2, 10, 0, tzinfo=UTC)


def _setup(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        session.add_all(
            [
                Region(code="110000", name="北京市", province_code="110000"),
                Region(code="460000", name="海南省", province_code="460000"),
                Region(code="460200", name="三亚市", province_code="460000"),
            ]
        )
        session.flush()
        load_rules(session)
        center = Agency(name="北京市医保中心", kind="insurance_center", region_code="110000")
        hospital = Institution(
            code="H-RACE-1",
            name="三亚并发医院",
            region_code="460200",
            kind="hospital",
            level=3,
            specialty="general",
            designated=True,
            networked=True,
        )
        session.add_all([center, hospital])
        session.flush()
        ids = {"hospital": hospital.id}
        ids["reviewer"] = create_user(
            session, name="审核", role="agency", agency_id=center.id
        ).user.id
        ids["admin"] = create_user(session, name="root", role="admin").user.id
        return ids


def _person(session: Session, n: int) -> Person:
    person = Person(
        identity_number=make_identity_number("110105", date(1957, 8, 8), 300 + n),
        name=f"并发{n}",
        sex="M",
        birth_date=date(1957, 8, 8),
        scheme="employee",
        person_type="retired",
        insured_region="110000",
        assistance_eligible=False,
    )
    session.add(person)
    session.flush()
    session.add(Account(person_id=person.id, balance_fen=0))
    session.flush()
    return person


def _claim_under_review(
    engine: Engine, ids: dict[str, int], n: int, invoice: str
) -> tuple[int, int]:
    from yibao.auth.models import User

    with session_scope(engine) as session:
        person = _person(session, n)
        admin = session.get(User, ids["admin"])
        assert admin is not None
        claim = reimbursements.submit_claim(
            session,
            actor=admin,
            data=ReimbursementCreate(
                person_id=person.id,
                case_type="card_not_carried",
                setting="outpatient",
                institution_id=ids["hospital"],
                treatment_date=date(2026, 5, 10),
                total=Decimal("1000.00"),
                diagnoses=["J06.9"],
                invoices=[InvoiceIn(number=invoice, amount=Decimal("1000.00"))],
                lines=[LineIn(code="X001", quantity=Decimal(10), unit_price=Decimal("100.00"))],
                payout=PayoutIn(method="bank_account", account_number="6222000011112222"),
            ),
            now=NOW,
        )
        # The documents are not what this test is about: the claim stands complete.
        claim.required_documents = []
        session.flush()
        reimbursements.start_review(session, actor=admin, claim_id=claim.id, now=NOW)
        return person.id, claim.id


def _race(*jobs: Callable[[], Any]) -> list[Any]:
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(index: int, job: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = job()
        except YibaoError as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_an_invoice_settled_and_claimed_at_once_is_paid_out_once(pg_url: str) -> None:  # noqa: F811
    from yibao.auth.models import User

    engine = make_engine(pg_url)
    try:
        ids = _setup(engine)
        outcomes = []
        for n in range(ROUNDS):
            invoice = f"4602-RACE-{n:04d}"
            person_id, claim_id = _claim_under_review(engine, ids, n, invoice)

            def approve(claim_id: int = claim_id) -> str:
                with session_scope(engine) as session:
                    reviewer = session.get(User, ids["reviewer"])
                    assert reviewer is not None
                    reimbursements.approve_claim(
                        session, actor=reviewer, claim_id=claim_id, now=NOW
                    )
                return "approved"

            def settle(person_id: int = person_id, invoice: str = invoice, n: int = n) -> str:
                with session_scope(engine) as session:
                    person = session.get(Person, person_id)
                    hospital = session.get(Institution, ids["hospital"])
                    assert person is not None and hospital is not None
                    record_settlement(
                        session,
                        claim=Claim(
                            claim_id=f"SY-RACE-{n}",
                            date=date(2026, 5, 10),
                            setting="outpatient",
                            person=person_info(person),
                            institution=institution_info(hospital),
                            lines=(
                                ClaimLine(
                                    code="X001", quantity=Decimal(10), unit_price=Decimal("100")
                                ),
                            ),
                        ),
                        person_id=person_id,
                        institution_id=hospital.id,
                        msg_id=f"SY-RACE-{n}",
                        invoice_no=invoice,
                        now=NOW,
                    )
                return "settled"

            jobs = (approve, settle) if n % 2 else (settle, approve)
            outcomes.append(_race(*jobs))
            with session_scope(engine) as session:
                reviewer = session.get(User, ids["reviewer"])
                assert reviewer is not None
                try:
                    reimbursements.pay_claim(session, actor=reviewer, claim_id=claim_id, now=NOW)
                except YibaoError as exc:
                    assert exc.code in ("reimbursement.already_paid", "state.invalid_transition")
            with session_scope(engine) as session:
                claim = session.get(ReimbursementClaim, claim_id)
                assert claim is not None
                direct = session.scalars(
                    select(SettlementRecord).where(
                        SettlementRecord.person_id == person_id,
                        SettlementRecord.source == "direct",
                        SettlementRecord.state == "settled",
                    )
                ).all()
                # the hospital was never refused, so the direct settlement stands ...
                assert len(direct) == 1
                # ... and the claim was not paid on top of it
                assert claim.state != "paid", (n, outcomes[-1])
    finally:
        engine.dispose()
