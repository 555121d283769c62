"""FHIR R4 face (``/fhir/R4``): Patient, Coverage, eligibility, Claim/$submit,
ExplanationOfBenefit and PaymentReconciliation over the same services as the REST API.
See docs/fhir.md."""
