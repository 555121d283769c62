"""Documents (材料) of filings and manual reimbursement claims: one vocabulary, one table,
crash-safe storage. The owning concept decides who may upload and read; this component
stores."""
