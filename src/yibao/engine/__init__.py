"""The settlement engine: pure functions from a claim to a settlement.

No I/O and no framework imports here (a test keeps it so). Everything that settles —
``yibao settle``, the hospital window, manual reimbursement, batch — calls :func:`settle`.
"""
