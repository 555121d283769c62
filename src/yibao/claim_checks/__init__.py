"""Audit checks (稽核) run on every reimbursement claim and every direct settlement."""
