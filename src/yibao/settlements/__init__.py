"""Direct settlement (直接结算): storing a settlement computed by the engine, its reversal
(冲正), the person's year (accumulators) and idempotency; reused by the hospital window
(:mod:`yibao.encounters`), the pharmacy and manual reimbursement."""
