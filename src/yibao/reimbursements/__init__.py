"""Manual reimbursement (零星报销): claims by people who paid in full, reviewed and paid out."""
