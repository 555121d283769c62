"""The settlement engine: pure functions from a claim to a settlement.

No I/O and no framework imports here (a test keeps it so). Everything that settles —
``yibao settle``, the hospital window, manual reimbursement, batch — calls :func:`settle`.
"""

from .models import (
    Catalog,
    CatalogItem,
    Claim,
    ClaimLine,
    FilingInfo,
    InstitutionInfo,
    PersonInfo,
    Policy,
    Settlement,
    YearAccumulators,
)
from .render import accumulators_from_dict, accumulators_to_dict, explanation_lines, result_to_dict
from .settle import (
    PolicyBook,
    UnknownCatalogCode,
    check_codes,
    choose_policy,
    offsite_status,
    settle,
    settle_run,
)

__all__ = [
    "Catalog",
    "CatalogItem",
    "Claim",
    "ClaimLine",
    "FilingInfo",
    "InstitutionInfo",
    "PersonInfo",
    "Policy",
    "PolicyBook",
    "Settlement",
    "UnknownCatalogCode",
    "YearAccumulators",
    "accumulators_from_dict",
    "accumulators_to_dict",
    "check_codes",
    "choose_policy",
    "explanation_lines",
    "offsite_status",
    "result_to_dict",
    "settle",
    "settle_run",
]
