"""Off-site filings (异地就医备案): categories, documents, review, certificates."""
