"""Clearing (清算) between insured and treatment regions for off-site direct settlements."""
