"""The engine's inputs, read from the database (就医地目录、参保地政策).

Everything the pure engine needs besides the claim's own lines comes from here: the insured
place's policies and the treatment place's catalog in force on the day (:func:`rules_for`,
cached per version), the person and the institution as the engine sees them, the filing
that applies, and the claim completed with the stored account balance. The year's
accumulators are read under lock by :mod:`yibao.settlements.repository` and converted by
:mod:`yibao.engine.accumulators`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from yibao.engine import (
    Catalog,
    Claim,
    FilingInfo,
    InstitutionInfo,
    PersonInfo,
    PolicyBook,
)
from yibao.engine.models import LIABILITIES
from yibao.errors import ValidationFailed
from yibao.filings.service import filing_info_for
from yibao.money import from_fen
from yibao.policies.service import catalog_for, policies_for
from yibao.registry.models import Account, Institution, Person
from yibao.settlements import repository as repo

# Pharmacies have no hospital level; their outpatient claims are settled at level 1.
PHARMACY_LEVEL = 1


@dataclass(frozen=True, slots=True)
class Rules:
    policies: PolicyBook  # indexed once per cached version, not on every settlement
    catalog: Catalog


# Parsed rules per (insured region, treatment region, versions in force): the versions are
# found by ids and digests in one light query on every call, so the policy and catalog texts
# are not fetched and parsed again for every settlement, and a new version applies at once.
_RULES_CACHE: dict[tuple[str, str, tuple[tuple[str, str, str], ...]], Rules] = {}


def rules_for(session: Session, *, insured_region: str, treatment_region: str, on: date) -> Rules:
    """Insured place's policies, treatment place's catalog (就医地目录、参保地政策)."""
    fingerprint = repo.rules_fingerprint(
        session, insured_region=insured_region, treatment_region=treatment_region, on=on
    )
    key = (insured_region, treatment_region, fingerprint)
    cached = _RULES_CACHE.get(key)
    if cached is not None:
        return cached
    rules = Rules(
        policies=PolicyBook(policies_for(session, region=insured_region, on=on)),
        catalog=catalog_for(session, region=treatment_region, on=on),
    )
    if len(_RULES_CACHE) > 4096:
        _RULES_CACHE.clear()
    _RULES_CACHE[key] = rules
    return rules


def rules_for_claim(session: Session, claim: Claim) -> Rules:
    """The rules of the claim's insured region and treatment region on its day."""
    return rules_for(
        session,
        insured_region=claim.person.insured_region,
        treatment_region=claim.institution.region,
        on=claim.date,
    )


def filing_for(
    session: Session, *, person_id: int, on: date, treatment_region: str
) -> FilingInfo | None:
    """The off-site filing (备案) that applies to the person there on the day, if any."""
    return filing_info_for(session, person_id=person_id, on=on, treatment_region=treatment_region)


def person_info(person: Person) -> PersonInfo:
    return PersonInfo(
        id=str(person.id),
        insured_region=person.insured_region,
        scheme=person.scheme,
        person_type=person.person_type,
        assistance_eligible=person.assistance_eligible,
    )


def institution_info(institution: Institution) -> InstitutionInfo:
    return InstitutionInfo(
        id=str(institution.id),
        region=institution.region_code,
        level=institution.level if institution.level is not None else PHARMACY_LEVEL,
    )


def check_liability(liability: str | None) -> str | None:
    """A third-party liability code the engine knows (or None)."""
    if liability is not None and liability not in LIABILITIES:
        raise ValidationFailed(
            f"unknown liability {liability!r}; one of {', '.join(sorted(LIABILITIES))}",
            code="settlement.unknown_liability",
        )
    return liability


def account_balance_fen(session: Session, person_id: int | None) -> int:
    """The paying account's balance, unlocked (pre-settlement); 0 for no account."""
    if person_id is None:
        return 0
    account = session.get(Account, person_id)
    return account.balance_fen if account is not None else 0


def with_stored_account(claim: Claim, balance_fen: int) -> Claim:
    """The claim with the stored account balance; its own balance and year-to-date are
    ignored (the stored year is passed to the engine separately)."""
    return dataclasses.replace(
        claim,
        person=dataclasses.replace(
            claim.person, account_balance=from_fen(balance_fen), year_to_date=None
        ),
    )
