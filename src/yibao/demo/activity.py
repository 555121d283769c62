"""A few months of history for the demo, made by the real services on past days.

李秀英 (Beijing retiree) and 赵国强 (Baoding retiree) moved to Sanya four months ago: their
street offices filed, the hospitals stamped, their centres approved. Since then each saw
the Sanya hospitals every month, with one hospital stay, all settled directly at the
window; so the agencies' dashboards, the clearing of past months and the hospitals' lists
hold real settlements. 李秀英 also paid a private clinic that does not settle directly
and claims it back by hand: her claim waits in the Beijing centre's queue. Both centres
have paid Sanya an advance fund (预付金), each recorded by one reviewer and approved by a
second: Beijing's is about 80% in use (a warning on the dashboard), Baoding's about 40%.

Nothing here bypasses a service: each filing, visit, fee line, settlement and claim is the
service's own answer on the day it happened (the services take that day as ``today``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path

from sqlalchemy.orm import Session

from yibao.approvals import service as approvals
from yibao.auth.models import User
from yibao.clearing import advance
from yibao.demo.samples import sample_pdf
from yibao.documents import service as documents
from yibao.encounters import service as encounters
from yibao.filings import service as filings
from yibao.registry.models import Person
from yibao.reimbursements import service as reimbursements
from yibao.reimbursements.schemas import InvoiceIn, LineIn, PayoutIn, ReimbursementCreate

MINIMAL_PDF = sample_pdf()
MONTHS_OF_HISTORY = 4

# (code, quantity, unit price) of the Sanya catalog: a visit and a stay
OUTPATIENT_LINES = (("S0005", "1", "30"), ("D0009", "10", "65.10"))
INPATIENT_LINES = (("S0005", "8", "30"), ("D0009", "60", "65.10"), ("S0005", "2", "30"))


def _at(day: date) -> datetime:
    return datetime.combine(day, time(2, 0), UTC)  # 10:00 China time


def add_history(
    session: Session,
    *,
    users: dict[str, User],
    persons: dict[str, int],
    institutions: dict[str, int],
    upload_dir: Path,
    today: date,
    notes: list[str],
) -> dict[str, int]:
    """The history; returns how many settlements and claims it made. A step that a
    service refuses is noted (the demo never stops for it)."""
    made = {"settlements": 0, "claims": 0}
    start = today - timedelta(days=30 * MONTHS_OF_HISTORY + 5)

    def attempt(what: str, step: Callable[[], None]) -> None:
        try:
            with session.begin_nested():
                step()
        except Exception as exc:  # the demo's history must never stop the demo
            notes.append(f"demo history: {what} not done: {exc}")

    def upload(filing_id: int, actor: User, *doc_types: str) -> None:
        for doc_type in doc_types:
            filings.upload_document(
                session,
                actor=actor,
                filing_id=filing_id,
                upload=documents.Upload(
                    doc_type=doc_type,
                    filename=f"{doc_type}.pdf",
                    content_type="application/pdf",
                    data=MINIMAL_PDF,
                    upload_dir=upload_dir,
                    max_bytes=10 * 1024 * 1024,
                ),
            )

    def resettle(
        person: str, desk: str, reviewer: str, docs: tuple[str, ...], *, choose: bool
    ) -> None:
        # Beijing asks the retiree to choose hospitals (seed 000), which stamp the form;
        # Baoding lets every networked hospital of the destination apply.
        filing = filings.create_filing(
            session,
            actor=users[desk],
            request=filings.FilingRequest(
                person_id=persons[person],
                category="resettled_retiree",
                destination="460200",
                requested_start=start,
                hospital_ids=(
                    [institutions["H460200001"], institutions["H460200003"]] if choose else None
                ),
            ),
            today=start,
        )
        upload(filing.id, users[desk], *docs)
        for hospital in ("hospital", "hospital_sy2") if choose else ():
            filings.stamp_hospital(
                session, actor=users[hospital], filing_id=filing.id, now=_at(start)
            )
        filings.submit_filing(session, actor=users[desk], filing_id=filing.id, today=start)
        filings.approve_filing(session, actor=users[reviewer], filing_id=filing.id, today=start)

    def visit(person: str, hospital: str, day: date, *, stay_days: int = 0) -> None:
        setting = "inpatient" if stay_days else "outpatient"
        admitted = day - timedelta(days=stay_days)
        institution_id = institutions[hospital]
        actor = users["hospital" if hospital == "H460200001" else "hospital_sy2"]
        encounter = encounters.register_encounter(
            session,
            institution_id=institution_id,
            setting=setting,
            started_on=admitted,
            identity_number=identity[person],
            deposit=Decimal(3000) if stay_days else Decimal(0),
            today=admitted,
            actor=actor,
        )
        lines = INPATIENT_LINES if stay_days else OUTPATIENT_LINES
        encounters.upload_fees(
            session,
            encounter_id=encounter.id,
            institution_id=institution_id,
            lines=[
                encounters.FeeLineIn(f"H{n}", code, Decimal(quantity), Decimal(price))
                for n, (code, quantity, price) in enumerate(lines, start=1)
            ],
            actor=actor,
        )
        encounters.settle_encounter(
            session,
            encounter_id=encounter.id,
            institution_id=institution_id,
            on=day,
            msg_id=f"DEMO-{encounter.id}",
            actor=actor,
            now=_at(day),
        )
        made["settlements"] += 1

    identity = {
        key: row.identity_number
        for key in ("li", "zhao")
        if (row := session.get(Person, persons[key])) is not None
    }
    attempt(
        "李秀英's filing",
        lambda: resettle(
            "li",
            "street_office",
            "agency",
            ("identity_copy", "residence_proof", "retirement_certificate"),
            choose=True,
        ),
    )
    attempt(
        "赵国强's filing",
        lambda: resettle(
            "zhao",
            "street_office_bd",
            "agency_bd",
            ("identity_copy", "residence_proof", "retirement_certificate"),
            choose=False,
        ),
    )
    for month in range(MONTHS_OF_HISTORY, 0, -1):
        first_day = start + timedelta(days=30 * (MONTHS_OF_HISTORY - month) + 8)
        for person in ("li", "zhao"):
            for offset, hospital in ((0, "H460200001"), (11, "H460200003")):
                day = first_day + timedelta(days=offset + (3 if person == "zhao" else 0))
                attempt(f"{person}'s visit on {day}", partial(visit, person, hospital, day))
    stay_end = start + timedelta(days=50)
    attempt("李秀英's hospital stay", lambda: visit("li", "H460200001", stay_end, stay_days=6))

    def claim() -> None:
        day = today - timedelta(days=20)
        reimbursements.submit_claim(
            session,
            actor=users["street_office"],
            data=ReimbursementCreate(
                person_id=persons["li"],
                case_type="offsite_no_direct",
                setting="outpatient",
                institution_id=institutions["H460200005"],
                treatment_date=day,
                total=Decimal("651.00"),
                diagnoses=["I10"],
                invoices=[InvoiceIn(number="46020026000123", amount=Decimal("651.00"))],
                lines=[
                    LineIn(
                        code="D0009",
                        quantity=Decimal(10),
                        unit_price=Decimal("65.10"),
                        service_date=day,
                    ),
                ],
                payout=PayoutIn(method="bank_account", account_number="6222020200012345678"),
            ),
            now=_at(day),
        )
        made["claims"] += 1

    attempt("李秀英's reimbursement claim", claim)

    def advance_fund(recorder: str, approver: str, share: int, *, top_up: bool) -> None:
        """The centre records the advance fund it paid Sanya and a second reviewer approves
        it: sized from the history, so that ``share`` percent of it is in use today (never
        below the suggested amount, rounded up to 100 yuan), in force from the 1st of this
        month. With ``top_up``, an earlier amount (the suggested one) stays in the history,
        in force from the day the history began."""
        (pair,) = [
            u
            for u in advance.usage(session, actor=users[recorder], on=today)
            if u.treatment_region == "460200"
        ]
        suggested = pair.suggestion.amount_fen
        needed = -(-pair.in_use_fen * 100 // share)
        amounts = [(start, suggested)] if top_up else []
        amounts.append((today.replace(day=1), max(suggested, needed)))
        for day, fen in amounts:
            rounded = -(-fen // 10_000) * 10_000
            asked = advance.request_advance_fund(
                session,
                actor=users[recorder],
                treatment_region="460200",
                amount=Decimal(rounded) / 100,
                effective_from=day,
                note="预付金拨付（按近两个月基金支付测算）",
                now=_at(day),
            )
            approvals.approve(session, actor=users[approver], approval_id=asked.id, now=_at(day))

    # Beijing's fund is 80% in use (a warning, 预警); Baoding's 40% (normal).
    attempt("Beijing's advance fund", lambda: advance_fund("agency", "agency_2", 80, top_up=True))
    attempt(
        "Baoding's advance fund", lambda: advance_fund("agency_bd", "agency_bd_2", 40, top_up=False)
    )
    return made
