"""Every concept's models, imported once so ``Base.metadata`` knows all tables.

Alembic's env and the tests import this module. Add one line per concept.
"""

import yibao.approvals.models
import yibao.audit.identity_reads
import yibao.audit.models
import yibao.auth.models
import yibao.claim_checks.models
import yibao.clearing.models
import yibao.documents.models
import yibao.encounters.models
import yibao.filings.models
import yibao.pharmacy.models
import yibao.policies.models
import yibao.reconciliation.models
import yibao.recovery.models
import yibao.registry.models
import yibao.reimbursements.models
import yibao.settlements.models
import yibao.users.models
import yibao.verification.models  # noqa: F401
