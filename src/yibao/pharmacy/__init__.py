"""Designated retail pharmacies (定点零售药店): sales of catalog drugs against the card."""
