"""Every reaction between concepts, registered in one place, imported by every face.

Concepts low in the layers announce facts (:mod:`yibao.events`), ask registered checks
(:func:`yibao.registry.access.hospital_can_see`), registered history sources
(:func:`yibao.claim_checks.service.register_history_source`) or registered approval kinds
(:func:`yibao.approvals.service.register_kind`) instead of importing the concepts above
them; the reactions are subscribed when their modules are imported. Importing this module
imports all of them, so a face that imports it — the API app (:mod:`yibao.api.app`), the
command line (:mod:`yibao.cli.main`), the demo (:mod:`yibao.demo.cli`), the tests'
``conftest`` — never settles or reverses with a reaction missing. A new face imports this
module once; a new subscriber module adds one line here (and a row to
``docs/architecture.md``).

Handlers of one fact run in the order of the imports below (``yibao.events.subscribers``
lists them); none of today's depends on another's effect.
"""

import yibao.clearing.advance  # approval kind: recording an advance fund (预付金)
import yibao.clearing.service  # approval kind: confirming a clearing statement
import yibao.encounters.access  # registry check: the person has an encounter there
import yibao.encounters.handlers  # SettlementReversed: the encounter is open again
import yibao.filings.access  # registry check: a filing names the hospital
import yibao.pharmacy.access  # registry check: the pharmacy sold to the person
import yibao.pharmacy.handlers  # SettlementReversed: the sale is reversed (退药)
import yibao.policies.service  # registry: the person types the region's policies know
import yibao.recovery.handlers  # SettlementRecorded / Reversed: recovery cases
import yibao.registry.service  # approval kind: an account movement by hand
import yibao.reimbursements.checks  # claim-check history: the claims already reimbursed
import yibao.reimbursements.service  # noqa: F401  # approval kind: overriding findings
