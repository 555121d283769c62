"""The main menu of the pages, per role: where each audience goes every day.

The menu only links; what a user may see or do on each page is decided by the services.
"""

from __future__ import annotations

from typing import Final

from yibao.web.i18n import N_

MENU: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "insured": (
        ("/me", N_("My home")),
        ("/me/filings", N_("My filings")),
        ("/me/claims", N_("My claims")),
        ("/institutions", N_("Hospitals")),
    ),
    "street_office": (
        ("/me", N_("My home")),
        ("/office/filings", N_("Filings")),
        ("/institutions", N_("Hospitals")),
    ),
    "unit": (
        ("/me", N_("My home")),
        ("/office/filings", N_("Filings")),
        ("/institutions", N_("Hospitals")),
    ),
    "hospital": (
        ("/me", N_("My home")),
        ("/window", N_("Insurance window")),
        ("/window/encounters", N_("Encounters")),
        ("/window/settlements", N_("Settlements")),
        ("/window/reconciliation", N_("Reconciliation")),
        ("/window/referrals", N_("Referrals")),
    ),
    # a pharmacy's user (a hospital user of a pharmacy): sales against the card, no visits
    "pharmacy": (
        ("/me", N_("My home")),
        ("/window", N_("Insurance window")),
        ("/window/settlements", N_("Settlements")),
        ("/window/reconciliation", N_("Reconciliation")),
        ("/window/catalog", N_("Catalog search")),
    ),
    "agency": (
        ("/me", N_("My home")),
        ("/agency/filings", N_("Filing reviews")),
        ("/agency/claims", N_("Claim reviews")),
        ("/agency/approvals", N_("Approvals")),
        ("/agency/recovery", N_("Recovery")),
        ("/agency/clearing", N_("Clearing")),
        ("/agency/dashboard", N_("Dashboard")),
        ("/agency/policies", N_("Policies")),
    ),
    "admin": (
        ("/me", N_("My home")),
        ("/admin/users", N_("Users")),
        ("/admin/institutions", N_("Institutions")),
        ("/admin/regions", N_("Regions")),
        ("/admin/units", N_("Units")),
    ),
}


def menu_for(role: str | None) -> tuple[tuple[str, str], ...]:
    """The menu of a role (nothing before signing in)."""
    return MENU.get(role or "", ())
