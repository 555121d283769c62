"""Every API router, mounted under ``/api/v1`` by :func:`yibao.api.app.create_app`.

Append your concept's router here with one line.
"""

from fastapi import APIRouter

from yibao.api import system_routes
from yibao.approvals import routes as approval_routes
from yibao.audit import routes as audit_routes
from yibao.claim_checks import routes as claim_checks_routes
from yibao.clearing import routes as clearing_routes
from yibao.encounters import routes as encounter_routes
from yibao.filings import routes as filing_routes
from yibao.pharmacy import routes as pharmacy_routes
from yibao.policies import routes as policy_routes
from yibao.reconciliation import routes as reconciliation_routes
from yibao.recovery import routes as recovery_routes
from yibao.registry import routes as registry_routes
from yibao.reimbursements import routes as reimbursement_routes
from yibao.settlements import routes as settlement_routes
from yibao.users import routes as user_routes

ROUTERS: list[APIRouter] = [
    system_routes.router,
    registry_routes.router,
    policy_routes.router,
    user_routes.router,
    audit_routes.router,
    approval_routes.router,
    filing_routes.router,
    encounter_routes.router,
    settlement_routes.router,
    pharmacy_routes.router,
    recovery_routes.router,
    reimbursement_routes.router,
    claim_checks_routes.router,
    clearing_routes.router,
    reconciliation_routes.router,
]
