"""Invoice numbers (发票号) as receipts print them and as they are compared."""

from __future__ import annotations


def normalise_invoice_number(number: str) -> str:
    """Invoice numbers compare without spaces, dashes or case."""
    return "".join(ch for ch in number.upper() if ch.isalnum())
