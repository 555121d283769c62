"""Reconciliation (对账) of a hospital's own totals and details with Yibao's settlements."""
