"""Direct settlement at the hospital window (直接结算): encounters, fee details,
pre-settlement, settlement, reversal, accumulators and idempotency."""
