"""Every concept's models, imported once so ``Base.metadata`` knows all tables.

Alembic's env and the tests import this module. Add one line per concept.
"""

import yibao.audit.models
import yibao.auditing.models
import yibao.clearing.models
import yibao.filings.models
import yibao.pharmacy.models
import yibao.policies.models
import yibao.reconciliation.models
import yibao.recovery.models
import yibao.registry.models
import yibao.reimbursements.models
import yibao.settlements.models
import yibao.users.models  # noqa: F401
