"""The services' refusals said to the person in front of the page.

Services raise :class:`yibao.errors.YibaoError` with a stable ``code`` and an English
``message`` written for developers and the API ("the form is not yet stamped by ...").
A page shows, as the error's headline, the sentence this table gives for the code — what is
wrong and what to do, in the reader's language (catalog ``errors.po``) — and keeps the
service's own message and the code as technical details for support staff.

:func:`sentence_for` is the one place that decides the sentence for a code; the forms
(:func:`yibao.web.forms.attempt`) and the error pages (:mod:`yibao.web.errors`) both use it.
A code without an entry falls back to the service's message (the server logs the code once);
``tests/web/test_error_messages.py`` fails when a code raised in the sources has no entry or
an entry's code is raised nowhere. The FHIR and NHSA adapters' own codes (``fhir.*``,
``nhsa.*``) never reach a page and have no entry.
"""

from __future__ import annotations

import logging
from typing import Final

from yibao.web.i18n import N_

_log = logging.getLogger("yibao.web")

# code -> message id (English, for a person at a desk); the Chinese is in errors.po.
# Some ids are shared with the page that says the same refusal (the dashboard's advance fund).
SENTENCES: Final[dict[str, str]] = {
    "account.fen": N_("An amount has at most two decimals (fen)."),
    "account.insufficient": N_(
        "The personal account does not hold enough for this payment: enter a smaller amount."
    ),
    "account.kind": N_("Choose the kind of account movement from the list."),
    "account.not_found": N_("This person has no personal account yet."),
    "account.zero": N_("Enter an amount other than zero."),
    "agency.kind": N_("Choose the kind of agency from the list."),
    "approval.decided": N_("This request was already decided: reload the page."),
    "approval.forbidden": N_("Your account may not make this request."),
    "approval.kind": N_("This kind of request is not known."),
    "approval.not_found": N_("No such request for approval exists."),
    "approval.same_user": N_("A second colleague must decide this: you made the request yourself."),
    "audit.forbidden": N_("The checks of a claim are read by the insured region's centre only."),
    "auth.docs_sign_in": N_("Sign in to read the API documentation."),
    "auth.invalid_token": N_("The access key is not valid: sign in again."),
    "auth.missing_token": N_("Please sign in first."),
    "auth.no_institution": N_(
        "This account is not bound to an institution: ask the administrator."
    ),
    "auth.no_person": N_("This account is not bound to an insured person: ask the administrator."),
    "auth.region": N_(
        "Clearing totals are seen only by the agencies of the two regions concerned."
    ),
    "auth.role_forbidden": N_("Your role may not do this."),
    "auth.token_expired": N_("The access key has expired: ask the administrator for a new one."),
    "auth.token_revoked": N_("The access key was withdrawn: ask the administrator for a new one."),
    "auth.too_many_failures": N_(
        "Too many failed attempts from here: wait a few minutes and try again."
    ),
    "backup.failed": N_(
        "The backup could not be completed: nothing was kept; see the message below."
    ),
    "catalog.empty": N_("The catalog file holds no entries: check the file."),
    "catalog.not_found": N_("No such catalog version exists."),
    "catalog.not_loaded": N_(
        "No drug and treatment catalog of the region is in force on that day: ask the agency "
        "to load it."
    ),
    "catalog.unknown_code": N_(
        "Some fee lines use codes that are not in the region's catalog: check the codes of the "
        "lines named in the details."
    ),
    "catalog.version_taken": N_(
        "A catalog of this region from the same day is already loaded with other content: load "
        "the new one with a later start day."
    ),
    "claim.document_not_found": N_("No such document belongs to this claim."),
    "clearing.advance_fen": N_("An amount has at most two decimals (fen)."),
    "clearing.advance_negative": N_("An advance fund is never negative. To end one, record 0.00."),
    "clearing.advance_not_debtor": N_(
        "Only the centre of the insured region that pays the advance fund records it."
    ),
    "clearing.advance_not_found": N_("No advance fund is recorded between these regions."),
    "clearing.advance_note": N_("The note is too long: shorten it."),
    "clearing.advance_region": N_("Choose the treatment region the fund was paid to."),
    "clearing.advance_same_region": N_("An advance fund is paid to another region."),
    "clearing.advance_too_large": N_("This amount is larger than any advance fund can be."),
    "clearing.forbidden": N_("Only the agencies of the two regions take part in this clearing."),
    "clearing.month_invalid": N_("Enter the month as year and month, such as 2026-03."),
    "clearing.month_open": N_(
        "This month has not ended yet: its statement is confirmed from the 1st of the next month."
    ),
    "clearing.not_confirmed": N_(
        "This clearing statement is still a draft: it can be reconciled once confirmed."
    ),
    "clearing.not_debtor": N_("A statement is confirmed by the centre of the region that owes it."),
    "clearing.not_found": N_("No such clearing statement exists."),
    "clearing.statement_rebuilt": N_(
        "The statement was rebuilt after this request was made: make the request again on the "
        "new statement."
    ),
    "conflict": N_("This cannot be done in the record's present state: reload the page to see it."),
    "db.integrity": N_(
        "This would duplicate or contradict a record already stored: check what was entered."
    ),
    "document.file_missing": N_("The stored file of this document is missing: upload it again."),
    "eligibility.other_institution": N_(
        "A hospital checks eligibility at its own institution only."
    ),
    "encounter.already_admitted": N_(
        "The patient is already admitted: discharge the open stay first, or continue it."
    ),
    "encounter.date_future": N_("The date lies in the future: enter today or an earlier day."),
    "encounter.deposit": N_("A deposit cannot be negative."),
    "encounter.diagnosis": N_("A diagnosis code has at most 20 characters, such as I21.0."),
    "encounter.discharge_date": N_(
        "The discharge day is before the admission day: check the dates."
    ),
    "encounter.duplicate": N_(
        "This visit number is already registered: look the visit up instead."
    ),
    "encounter.not_discharged": N_(
        "The patient was not discharged: there is no discharge to cancel."
    ),
    "encounter.not_found": N_("No such visit is registered."),
    "encounter.not_inpatient": N_("Only an inpatient stay is discharged."),
    "encounter.reason": N_("Give the reason for the cancellation."),
    "encounter.setting": N_("Choose outpatient or inpatient."),
    "family.exists": N_("These persons are already linked as family."),
    "family.not_found": N_("No such family link is registered."),
    "family.relation": N_("Choose the relation from the list."),
    "family.self": N_("A person cannot be their own relative: choose another person."),
    "fees.code": N_("Every fee line needs its catalog code."),
    "fees.duplicate_line_id": N_(
        "Some fee line numbers are used twice: give each line its own number."
    ),
    "fees.empty": N_("Enter at least one fee line."),
    "fees.encounter_too_large": N_(
        "The fees of this visit would exceed the highest total accepted: check the quantities "
        "and prices."
    ),
    "fees.negative": N_("A quantity or price cannot be negative."),
    "fees.not_found": N_("No such fee line belongs to this visit."),
    "fees.too_large": N_("A fee line is above the accepted quantity, price or amount: check it."),
    "filing.category_kind_change": N_(
        "A long-term filing cannot become a temporary one, nor the other way: withdraw it and "
        "file anew."
    ),
    "filing.category_not_offered": N_(
        "The insured region does not offer this filing category: choose one of the categories "
        "offered."
    ),
    "filing.category_unfit": N_(
        "The person does not fit this filing category: choose a category that fits them."
    ),
    "filing.category_unknown": N_("Choose the filing category from the list."),
    "filing.closed": N_(
        "The application is already decided or closed: nothing can be added or changed."
    ),
    "filing.commitment_not_allowed": N_(
        "The insured region does not accept a personal commitment letter for this: upload the "
        "proof of residence."
    ),
    "filing.commitment_signer": N_(
        "The commitment letter is signed with the insured person's name exactly as registered."
    ),
    "filing.contact_invalid": N_(
        "Give a contact phone (such as 13800138000) and the address at the destination."
    ),
    "filing.correction_empty": N_(
        "Say what the correction changes: destination, hospitals or category."
    ),
    "filing.destination_invalid": N_("Choose a destination region other than the insured region."),
    "filing.document_not_found": N_("No such document belongs to this application."),
    "filing.documents_missing": N_(
        "Documents are missing: upload those the application lists as still missing, then submit."
    ),
    "filing.duplicate": N_(
        "The person already has a filing of this kind: continue or withdraw that one first."
    ),
    "filing.emergency_invalid": N_(
        "An emergency filing made afterwards needs the hotline's approval and the treatment "
        "days, within the region's deadline."
    ),
    "filing.forbidden": N_("You may not act for this person."),
    "filing.hospital_choice_invalid": N_(
        "Some chosen hospitals are not known or not networked at the destination: choose them "
        "again from the list."
    ),
    "filing.hospital_choice_not_used": N_(
        "The insured region does not ask to choose hospitals for this category: every "
        "networked hospital of the destination may be used."
    ),
    "filing.hospital_stamps_missing": N_(
        "The hospital has not yet stamped the form: ask the hospital's insurance office to "
        "stamp it, then submit."
    ),
    "filing.locked": N_("This filing cannot be changed before the end of its lock period."),
    "filing.missing_required": N_(
        "A return names the missing documents: choose them from the list."
    ),
    "filing.not_approved": N_("The certificate is issued once the filing is approved."),
    "filing.not_chosen_hospital": N_(
        "Only a hospital chosen in the application stamps its form, and only for itself."
    ),
    "filing.not_editable": N_("Only a draft or a returned application can be changed."),
    "filing.not_expired": N_("Only an expired filing is renewed."),
    "filing.not_found": N_("No such filing exists."),
    "filing.not_issuing_hospital": N_(
        "Only the hospital that issued the referral stamps its referral certificate."
    ),
    "filing.not_referral": N_("Only a referral has a referral certificate."),
    "filing.not_reviewer": N_("Filings are reviewed by the insured region's centre."),
    "filing.not_verifier": N_("Certificates are checked by hospitals and agencies."),
    "filing.reason_required": N_("Give the reason."),
    "filing.referral_invalid": N_("Name a hospital that may issue the referral certificate."),
    "filing.referral_unstamped": N_(
        "The referral certificate is not yet stamped by the issuing hospital: ask it to stamp "
        "it, then submit."
    ),
    "filing.same_user": N_("You created this application: another reviewer must approve it."),
    "filing.stamp_not_required": N_(
        "The insured region does not ask the hospitals to stamp this form."
    ),
    "forbidden": N_("Your account may not do this."),
    "gone": N_("What you asked for existed, but is no longer available."),
    "hospital.required": N_(
        "Only a designated hospital does this: this account does not belong to a hospital."
    ),
    "idempotency.in_progress": N_(
        "The same request is still being processed: wait a moment, then reload."
    ),
    "idempotency.key_invalid": N_("The request's repeat key is not valid."),
    "idempotency.key_required": N_("This request moves money and needs a repeat key."),
    "idempotency.key_reused": N_("The request's repeat key was already used for another request."),
    "identity.birth_date": N_(
        "The identity number holds an impossible birth date: check the digits."
    ),
    "identity.check_digit": N_(
        "The identity number's last character does not match: check each digit."
    ),
    "identity.malformed": N_(
        "An identity number has 18 characters: 17 digits and then a digit or X."
    ),
    "input.invalid": N_("The data sent could not be read: check it and send it again."),
    "input.missing": N_("A file to read is missing."),
    "institution.kind": N_("An institution is either a hospital or a pharmacy."),
    "institution.level": N_("A hospital has level 1, 2 or 3; a pharmacy has no level."),
    "institution.not_designated": N_(
        "This institution is not a designated (定点) institution: no insured settlement can be "
        "made there."
    ),
    "institution.not_found": N_("No such institution is registered: check its code."),
    "institution.out_of_scope": N_("This institution is outside your region."),
    "institution.readonly": N_("These details of an institution cannot be changed here."),
    "institution.specialty": N_("Choose whether the hospital is a general or a specialised one."),
    "limit.body_bytes": N_("The request is too large: send smaller files, or fewer at a time."),
    "limit.document_bytes_per_owner": N_(
        "The documents of this file are too large together: scan them at a lower resolution."
    ),
    "limit.documents_per_owner": N_(
        "This file already holds as many documents as allowed: ask the agency before adding more."
    ),
    "limit.fee_lines_per_encounter": N_(
        "This stay holds as many fee lines as allowed: withdraw wrong lines or ask the agency."
    ),
    "limit.invoices_per_claim": N_(
        "A claim holds too many invoices: split them over several claims."
    ),
    "limit.lines_per_claim": N_(
        "A claim holds too many fee lines: split them over several claims."
    ),
    "metrics.forbidden": N_("The metrics are for the platform's monitoring only."),
    "not_found": N_("What you asked for does not exist, or is not yours to see."),
    "person.birth_date": N_("The birth date does not match the identity number: check both."),
    "person.card_taken": N_(
        "This social security card number already belongs to another person: check the number."
    ),
    "person.exists": N_(
        "A person with this identity number is already registered: look them up instead."
    ),
    "person.identity_invalid": N_(
        "This is not a valid identity number: check each digit and the last character."
    ),
    "person.lookup": N_("Enter either the identity number or the card number, not both."),
    "person.not_found": N_(
        "No insured person is found with this identity or card number: check the number."
    ),
    "person.out_of_scope": N_(
        "This person is outside your region: their own region's centre handles them."
    ),
    "person.readonly": N_("These details of a person cannot be changed here."),
    "person.region": N_("Only an administrator moves a person to another region."),
    "person.scheme": N_("Choose the scheme: employee or resident insurance."),
    "person.sex": N_("The sex does not match the identity number: check both."),
    "person.type_unknown": N_(
        "This person type is not known in the region's policy: choose one from the list."
    ),
    "person.unit_region": N_(
        "The insured unit is in another region than the person: choose a unit of the person's "
        "region."
    ),
    "pharmacy.nothing_sellable": N_(
        "Nothing in this basket can be paid with the card: the items are paid in cash."
    ),
    "pharmacy.patient_unknown": N_(
        "Buying for another person needs that person's identity record: no insured person has "
        "this identity number."
    ),
    "pharmacy.required": N_("Sales are made by designated pharmacies only."),
    "pharmacy.sale_not_found": N_("No such sale exists."),
    "policy.id_taken": N_(
        "A policy with this identifier is already loaded with other content: a changed policy "
        "is a new version."
    ),
    "policy.not_found": N_("No such policy exists."),
    "reconcile.forbidden": N_(
        "A hospital reconciles its own settlements, an agency those of its region's institutions."
    ),
    "reconcile.institution": N_("Choose the institution to reconcile."),
    "reconcile.not_found": N_("No such reconciliation exists."),
    "reconcile.period": N_("The period ends before it starts: check the dates."),
    "recovery.amount": N_("The amount recovered lies between 0 and the amount paid in advance."),
    "recovery.forbidden": N_("Recovery cases are handled by the insured region's centre."),
    "recovery.not_found": N_("No such recovery case exists."),
    "region.code": N_("A region code has six digits, such as 460200."),
    "region.exists": N_("This region is already registered."),
    "region.not_found": N_("No such region is registered: check the code."),
    "region.province": N_("Register the province first, and check that the code belongs to it."),
    "reimbursement.already_paid": N_(
        "Part of these costs was already paid: see the details, and leave those invoices out."
    ),
    "reimbursement.blocking_findings": N_(
        "The checks found problems that block this claim: a reviewer must look at them first."
    ),
    "reimbursement.case_setting": N_(
        "This reimbursement case does not cover this kind of treatment: choose another case."
    ),
    "reimbursement.closed": N_("Documents can be added only while the claim is open."),
    "reimbursement.collector_is_person": N_(
        "The collector is a family member, not the insured person."
    ),
    "reimbursement.collector_not_cash": N_("A collector is named only for a cash payout."),
    "reimbursement.collector_required": N_(
        "Cash collected by a family member needs their name, identity number and relation."
    ),
    "reimbursement.date": N_("The treatment day lies in the future: check the date."),
    "reimbursement.diagnosis_invalid": N_(
        "Diagnoses are ICD-10 codes such as I21.0: check the codes."
    ),
    "reimbursement.document_type_unknown": N_("Choose the kinds of documents from the list."),
    "reimbursement.documents_missing": N_(
        "Documents are missing: return the claim to ask for them instead of deciding it."
    ),
    "reimbursement.forbidden": N_("You may not see or act on this claim."),
    "reimbursement.institution": N_(
        "No such institution is registered: choose the hospital again."
    ),
    "reimbursement.invoice": N_("Every invoice needs its number."),
    "reimbursement.invoice_repeated": N_("An invoice is listed twice: list each invoice once."),
    "reimbursement.liability": N_("Choose who is liable for the treatment from the list."),
    "reimbursement.not_decided": N_("The decision letter exists once the claim is decided."),
    "reimbursement.not_found": N_("No such reimbursement claim exists."),
    "reimbursement.not_reviewer": N_("Claims are reviewed by the insured region's centre."),
    "reimbursement.nothing_to_override": N_(
        "The claim has no blocking findings: nothing to release."
    ),
    "reimbursement.payout": N_(
        "The payout needs the account number: enter the bank account or card number."
    ),
    "reimbursement.reason": N_("Give the reason in writing."),
    "reimbursement.return_empty": N_("Say what is missing: choose the documents or write a note."),
    "reimbursement.same_user": N_("You submitted this claim: another reviewer must approve it."),
    "reimbursement.stay": N_(
        "An inpatient claim needs an admission day on or before the discharge day; an "
        "outpatient claim has none."
    ),
    "reimbursement.unknown_case": N_("Choose the reimbursement case from the list."),
    "request.invalid": N_("The request could not be read: check what was entered."),
    "request.number_out_of_range": N_("A number is out of the accepted range."),
    "request.value_out_of_range": N_("A value is out of the accepted range."),
    "restore.refused": N_(
        "The restore was refused: the target is not empty or the backup does "
        "not match its checksums."
    ),
    "server.error": N_("Something went wrong on our side: please try again later."),
    "settlement.date": N_("The settlement day is before the admission: check the date."),
    "settlement.date_future": N_(
        "The settlement day lies in the future: enter today or an earlier day."
    ),
    "settlement.duplicate_msg_id": N_(
        "This settlement was already sent: look it up in the settlements instead of sending it "
        "again."
    ),
    "settlement.local_use_suspended": N_(
        "The card is suspended at home while a long-term off-site filing applies: the person "
        "settles at the destination, or ends the filing first."
    ),
    "settlement.message_not_found": N_(
        "No settlement was found to reverse: check which settlement you mean."
    ),
    "settlement.no_lines": N_(
        "No fee details were uploaded for this visit: enter the fee lines first."
    ),
    "settlement.not_found": N_("No such settlement exists."),
    "settlement.not_networked": N_(
        "This hospital is not networked for off-site direct settlement: the patient pays in "
        "full and claims a manual reimbursement at home."
    ),
    "settlement.not_reversible": N_(
        "This settlement came from an approved manual claim: it is corrected through the "
        "claim, not reversed here."
    ),
    "settlement.rejected": N_(
        "The settlement was refused by the insured region's rules: see the reason in the details."
    ),
    "settlement.unknown_liability": N_("Choose who is liable for the treatment from the list."),
    "state.invalid_transition": N_(
        "This step is not possible in the record's present state: reload the page to see what "
        "can be done now."
    ),
    "token.lifetime_invalid": N_(
        "Give the access key's lifetime in days, hours or minutes, such as 90d."
    ),
    "token.still_valid": N_(
        "This user still holds a valid access key: renew it instead of issuing another."
    ),
    "unauthorized": N_("Please sign in again."),
    "unit.not_found": N_("No such insured unit is registered."),
    "unit.out_of_scope": N_("Insured units are registered by the centre of their own region."),
    "upload.document_type_unknown": N_("Choose the kind of document from the list."),
    "upload.empty": N_("The file is empty: choose the scanned document again."),
    "upload.too_large": N_("The file is too large: scan it at a lower resolution or split it."),
    "upload.type_not_allowed": N_("This kind of file is not accepted: upload a PDF, JPEG or PNG."),
    "user.current_password_wrong": N_("The current password is not right: type it again."),
    "user.login_taken": N_("This login name is already taken: choose another one."),
    "user.not_found": N_("No such user exists."),
    "user.password_invalid": N_(
        "The login name or the password cannot be used: a login name has 2 to 40 lower-case "
        "letters, digits, '_', '.' or '-'; a password at least 8 characters."
    ),
    "user.password_unchanged": N_("Choose a new password that differs from the current one."),
    "user.role_unknown": N_("Choose the role from the list."),
    "user.scope_kind": N_(
        "This agency's kind does not fit the role: choose an agency of the right kind."
    ),
    "user.scope_region": N_("The agency is in another region than the one given."),
    "user.scope_unknown": N_(
        "Choose the workplace the role needs (agency, institution, unit or person)."
    ),
    "validation.failed": N_("What was entered does not meet the rules: check it and try again."),
    "verification.kind": N_("This document cannot be verified here."),
    "web.admin_only": N_("These pages are for platform administrators."),
    "web.agency_only": N_(
        "These pages are for medical insurance agencies: sign in with an agency account."
    ),
    "web.csrf": N_(
        "The form has expired or did not come from this site: reload the page and send it again."
    ),
    "web.hospital_only": N_(
        "These pages are for a hospital's insurance window: sign in with a hospital account."
    ),
    "web.insured_only": N_(
        "These pages are for insured persons: sign in with an insured person's account."
    ),
    "web.office_only": N_(
        "These pages are for street offices and insured units: sign in with such an account."
    ),
}

_unsaid: set[str] = set()


def sentence_for(code: str | None) -> str | None:
    """The message id saying the refusal ``code`` to the person at the page, or None when
    the table has none (the page then shows the service's own message; logged once)."""
    if not code:
        return None
    sentence = SENTENCES.get(code)
    if sentence is None and code not in _unsaid:
        _unsaid.add(code)
        _log.warning(
            "no sentence for the error code %s: the page shows the service's message", code
        )
    return sentence
