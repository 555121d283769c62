"""Filing applications (备案申请): the insured person's own (``/me/filings``) and those a
street office or an insured unit files for someone (``/office/filings``).

One form in sections, as the national filing mini program asks: the insured place and
scheme (the person's own, shown), the treatment place, the category (only those the
person fits, each explained in a line), the hospitals where the insured region asks for a
choice (checked as they are picked, by the filings service's own check), contact details,
and the documents uploaded or a personal commitment letter signed where the region allows
it. Save as a draft or submit. Every rule is the filings service's: the pages call the
same functions as ``/api/v1/filings`` with the signed-in user as the actor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from yibao.auth.deps import SessionDep
from yibao.auth.models import User
from yibao.clock import CHINA
from yibao.documents import service as documents
from yibao.documents.kinds import KIND_NAMES, DocumentKind
from yibao.filings import rules, views
from yibao.filings import service as filings
from yibao.filings.letters import Contact
from yibao.filings.models import Filing
from yibao.filings.states import OPEN_STATES, FilingState
from yibao.identity import mask_identity_number
from yibao.registry import service as registry
from yibao.registry.models import Person
from yibao.web.files import document_response, kind_name
from yibao.web.forms import FormError, act, attempt, day_field, status_of
from yibao.web.i18n import N_
from yibao.web.page import (
    OfficePage,
    Page,
    SignedInPage,
    check_csrf,
    current_day,
    insured_only,
    office_only,
)
from yibao.web.paging import PageNumber, Paging
from yibao.web.routes import MAX_ID, Names, PageRoute

router = APIRouter(
    route_class=PageRoute, include_in_schema=False, dependencies=[Depends(check_csrf)]
)

FILINGS_PER_PAGE: Final = 20
ME: Final = "/me"
OFFICE: Final = "/office"

NO_DESTINATION: Final = N_("Choose where you will be treated.")
NO_CATEGORY: Final = N_("Choose a filing category.")
NO_PERSON: Final = N_("Find the person first, by their identity number.")
BAD_DATE: Final = N_("Dates are written as 2026-05-10.")
BAD_HOSPITAL: Final = N_("Choose the hospitals from the list.")
NOT_SUBMITTED: Final = N_(
    "The application is saved as a draft but could not be submitted yet: "
    "see what is still missing below."
)

# One line on each category, for the person choosing (the rules are the region's data).
CATEGORY_HINTS: Final = {
    "resettled_retiree": N_(
        "Retired and settled for good where you will be treated (with a residence there)."
    ),
    "long_term_resident": N_("Living off-site for a long time, with a residence there."),
    "posted_worker": N_("Posted off-site by your employer to work there for a long time."),
    "minor_with_parents": N_("A child under 18 living off-site with the parents."),
    "resident_mother_postnatal": N_(
        "A mother in the resident scheme living off-site with her husband or parents "
        "after childbirth."
    ),
    "referral": N_(
        "Referred by a hospital of your insured region (county level or above) to one off-site."
    ),
    "emergency": N_("Treated in an emergency off-site, filed afterwards (hotline approved)."),
    "other_temporary": N_("Any other temporary treatment off-site, for a limited time."),
}


def document_names(lang: str) -> dict[str, str]:
    """Document kinds by the domain's own two names (材料类型), in the page's language."""
    return {str(kind): kind_name(kind, lang) for kind in KIND_NAMES}


# What happened to a filing (its history, from the audit log).
HISTORY: Final = {
    "created": N_("Application created"),
    "edited": N_("Application changed"),
    "document_uploaded": N_("Document added"),
    "hospital_stamped": N_("Stamped by a chosen hospital"),
    "referral_stamped": N_("Referral certificate stamped"),
    "submit": N_("Submitted"),
    "resubmit": N_("Resubmitted"),
    "approve": N_("Approved"),
    "reject": N_("Rejected"),
    "return": N_("Returned for completion"),
    "withdraw": N_("Withdrawn"),
    "cancel": N_("Cancelled"),
    "change": N_("Changed"),
    "correct": N_("Corrected by the centre"),
    "expire": N_("Expired"),
}

# What an applicant uploads to a filing (the reimbursement papers are the claims' own).
FILING_DOCUMENT_KINDS: Final = (
    DocumentKind.IDENTITY_COPY,
    DocumentKind.RESIDENCE_PROOF,
    DocumentKind.RETIREMENT_CERTIFICATE,
    DocumentKind.EMPLOYMENT_PROOF,
    DocumentKind.REFERRAL_CERTIFICATE,
    DocumentKind.EMERGENCY_RECORD,
    DocumentKind.OTHER,
)

HOSPITAL_SPECIALTIES: Final = {
    "general": N_("General hospital"),
    "specialised": N_("Specialised hospital"),
}
INSTITUTION_KINDS: Final = {"hospital": N_("Hospital"), "pharmacy": N_("Designated pharmacy")}


def _settings(request: Request) -> Any:
    return request.app.state.settings


def applicant_only(page: SignedInPage) -> Page:
    """The gate of a page that stands twice: ``/me/...`` for the insured person
    (:func:`~yibao.web.page.insured_only`), ``/office/...`` for the street offices and units
    that file for others (:func:`~yibao.web.page.office_only`)."""
    gate = insured_only if base_of(page) == ME else office_only
    return gate(page)


ApplicantPage = Annotated[Page, Depends(applicant_only)]


def base_of(page: Page) -> str:
    """Which of the two a request came by: ``/me`` or ``/office``."""
    route = page.request.scope.get("route")
    path: str = getattr(route, "path", page.request.url.path)
    return ME if path.startswith(ME + "/") else OFFICE


# --- the pieces of the form --------------------------------------------------------------


@dataclass
class Answers:
    """What the form holds, as typed (shown again after an error)."""

    person_id: int | None = None
    destination: str = ""
    category: str = ""
    hospital_ids: tuple[int, ...] = ()
    phone: str = ""
    address: str = ""
    commitment: bool = False
    signer: str = ""
    referral_hospital_id: int | None = None
    hotline_reference: str = ""
    hotline_called_on: str = ""
    treatment_start: str = ""
    treatment_end: str = ""


def _ints(values: list[str]) -> tuple[int, ...]:
    out = []
    for value in values:
        if not value.strip().isdigit() or len(value.strip()) > 18:
            raise FormError(BAD_HOSPITAL)
        out.append(int(value))
    return tuple(dict.fromkeys(out))


def _destinations(session: Session, person: Person) -> list[tuple[str, str]]:
    """Provinces and cities off-site for the person (the destination rule decides)."""
    out = []
    for region in registry.all_regions(session):
        if not rules.destination_problems(region.code, insured_region=person.insured_region):
            out.append((region.code, region.name))
    return out


def _form_context(
    page: Page,
    session: Session,
    *,
    base: str,
    person: Person,
    answers: Answers,
    error: dict[str, Any] | None = None,
    check: list[str] | None = None,
) -> dict[str, Any]:
    """Everything the application form shows for ``person`` and the answers so far."""
    names = Names(session)
    options = filings.category_options(
        session, actor=page.actor, person_id=person.id, today=current_day()
    )
    fitting = [o for o in options if o.fits]
    chosen = next((o for o in fitting if o.code == answers.category), None)
    hospitals = (
        filings.choosable_hospitals(session, destination=answers.destination)
        if answers.destination and chosen is not None and chosen.hospital_choice
        else []
    )
    referral_hospitals = (
        [
            h
            for h in filings.choosable_hospitals(session, destination=person.insured_region)
            if h.region_code == person.insured_region
        ]
        if chosen is not None and chosen.code == "referral"
        else []
    )
    required = list(chosen.documents) if chosen else []
    return {
        "base": base,
        "person": person,
        "identity_masked": mask_identity_number(person.identity_number),
        "names": names,
        "destinations": _destinations(session, person),
        "options": fitting,
        "unfit": [o for o in options if not o.fits],
        "chosen": chosen,
        "hospitals": hospitals,
        "referral_hospitals": referral_hospitals,
        "required": required,
        "answers": answers,
        "error": error,
        "check": say_problems(page, check),
        "hints": CATEGORY_HINTS,
        "document_names": document_names(page.lang),
        "specialties": HOSPITAL_SPECIALTIES,
        "today": current_day(),
    }


def _person_for(page: Page, session: Session, base: str, person_id: int | None) -> Person | None:
    """The person the form is for: the insured person themself, or the one an office found
    (the filings service checks the office may act for them)."""
    if base == ME:
        assert page.actor.person_id is not None
        return registry.get_person(session, person_id=page.actor.person_id)
    if person_id is None:
        return None
    person = registry.get_person(session, person_id=person_id)
    filings.category_options(session, actor=page.actor, person_id=person.id, today=current_day())
    return person


def _render_form(
    page: Page,
    session: Session,
    *,
    base: str,
    person: Person | None,
    answers: Answers,
    identity_number: str = "",
    find_error: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
    check: list[str] | None = None,
) -> Response:
    context: dict[str, Any] = {
        "base": base,
        "person": person,
        "identity_number": identity_number,
        "find_error": find_error,
    }
    if person is not None:
        context.update(
            _form_context(
                page, session, base=base, person=person, answers=answers, error=error, check=check
            )
        )
    return page.render("filing_new.html", status_code=status_of(error or find_error), **context)


# --- the list -----------------------------------------------------------------------------


def _list(page: Page, session: Session, request: Request, base: str, number: int) -> Response:
    today = current_day()
    ask = Paging(number, FILINGS_PER_PAGE)
    rows, next_page = ask.split(
        filings.list_filings_page(session, actor=page.actor, limit=ask.limit, offset=ask.offset)
    )
    items = [
        {
            "filing": filing,
            "person": person,
            "identity_masked": mask_identity_number(person.identity_number),
            "state": views.current_state(filing, today),
            "local_use_from": views.local_use_from(filing, today),
        }
        for filing, person in rows
    ]
    context: dict[str, Any] = {
        "base": base,
        "items": items,
        "names": Names(session),
        "next_page": next_page,
        "office": base == OFFICE,
    }
    if page.htmx:
        return page.render("_filing_rows.html", **context)
    return page.render("filing_list.html", **context)


@router.get("/me/filings")
@router.get("/office/filings")
def filing_list(
    page: ApplicantPage, session: SessionDep, request: Request, number: PageNumber = 1
) -> Response:
    return _list(page, session, request, base_of(page), number)


Text = Annotated[str, Query(max_length=40)]


def _new(
    page: Page,
    session: Session,
    request: Request,
    base: str,
    *,
    person_id: int | None,
    destination: str,
    category: str,
) -> Response:
    person = _person_for(page, session, base, person_id)
    answers = Answers(
        person_id=person.id if person else None, destination=destination, category=category
    )
    if page.htmx and person is not None:
        return page.render(
            "_filing_choices.html",
            **_form_context(page, session, base=base, person=person, answers=answers),
        )
    return _render_form(page, session, base=base, person=person, answers=answers)


def _find_person(page: Page, session: Session, identity_number: str) -> Person:
    """The person an office files for, by identity number (POSTed: it stays out of URLs);
    the filings service checks the office may act for them (403 otherwise)."""
    found = registry.lookup_person(
        session, actor=page.actor, identity_number=identity_number.strip(), card_number=None
    )
    filings.category_options(session, actor=page.actor, person_id=found.id, today=current_day())
    return found


Region = Annotated[str, Query(max_length=6)]


@router.get("/me/filings/new")
@router.get("/office/filings/new")
def new_filing(
    page: ApplicantPage,
    session: SessionDep,
    request: Request,
    person_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    destination: Region = "",
    category: Text = "",
) -> Response:
    """The application form: for the insured person themself, or (an office) for the
    person found."""
    base = base_of(page)
    return _new(
        page,
        session,
        request,
        base,
        person_id=person_id if base == OFFICE else None,
        destination=destination,
        category=category,
    )


@router.post("/office/filings/find")
def office_find_person(
    page: OfficePage,
    session: SessionDep,
    identity_number: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Find the person by identity number, then the form for them (their id in the URL)."""
    found, error = attempt(session, lambda: _find_person(page, session, identity_number))
    if found is None:
        return _render_form(
            page,
            session,
            base=OFFICE,
            person=None,
            answers=Answers(),
            identity_number=identity_number,
            find_error=error,
        )
    return page.redirect(f"/office/filings/new?person_id={found.id}")


# The hospital-choice rule's sentences (yibao.filings.rules.hospital_choice_problems), said in
# the page's language; a sentence not listed is shown as the service wrote it.
_CHOICE_PROBLEMS: Final = (
    (re.compile(r"choose at least one hospital"), N_("Choose at least one hospital.")),
    (
        re.compile(r"at most (?P<max>\d+) hospitals may be chosen, got (?P<count>\d+)"),
        N_("At most %(max)s hospitals may be chosen; %(count)s are chosen."),
    ),
    (re.compile(r"a hospital is chosen twice"), N_("A hospital is chosen twice.")),
    (re.compile(r"(?P<name>.+) is not a hospital"), N_("%(name)s is not a hospital.")),
    (
        re.compile(r"(?P<name>.+) is not a designated hospital networked for direct settlement"),
        N_("%(name)s is not a designated hospital networked for direct settlement."),
    ),
    (
        re.compile(r"(?P<name>.+) \(\d{6}\) is outside the destination \d{6}"),
        N_("%(name)s is outside the treatment place."),
    ),
    (
        re.compile(r"with two or more hospitals, one must be a level-3 general hospital"),
        N_("With two or more hospitals, one must be a level-3 general hospital."),
    ),
    (
        re.compile(r"a specialised hospital may only be the third choice"),
        N_("A specialised hospital may only be the third choice."),
    ),
    (
        re.compile(r"at most one specialised hospital may be chosen"),
        N_("At most one specialised hospital may be chosen."),
    ),
    (
        re.compile(r".+ does not use hospital choice for .+"),
        N_(
            "This category needs no choice: every networked designated hospital of the "
            "treatment place applies."
        ),
    ),
)


def say_problems(page: Page, problems: list[str] | None) -> list[str] | None:
    """The hospital-choice problems in the page's language."""
    if problems is None:
        return None
    said = []
    for problem in problems:
        for pattern, message in _CHOICE_PROBLEMS:
            found = pattern.fullmatch(problem)
            if found:
                said.append(page.gettext(message) % found.groupdict())
                break
        else:
            said.append(problem)
    return said


def _hospital_check(
    page: Page,
    session: Session,
    base: str,
    person_id: int | None,
    category: str,
    destination: str,
    hospital_ids: list[str],
) -> Response:
    person = _person_for(page, session, base, person_id)
    problems: list[str] | None = None
    if person is not None and category and destination:
        try:
            ids = _ints(hospital_ids)
        except FormError as exc:
            problems = [page.gettext(exc.message)]
        else:
            problems = filings.check_hospital_choice(
                session,
                actor=page.actor,
                person_id=person.id,
                category=category,
                destination=destination,
                hospital_ids=ids,
            )
    return page.render("_filing_hospital_check.html", check=say_problems(page, problems))


HospitalIds = Annotated[list[str], Query(max_length=10)]


@router.get("/me/filings/hospital-check")
@router.get("/office/filings/hospital-check")
def hospital_check(
    page: ApplicantPage,
    session: SessionDep,
    person_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    category: Text = "",
    destination: Region = "",
    hospital_ids: HospitalIds = [],  # noqa: B006 - FastAPI copies the default
) -> Response:
    base = base_of(page)
    chosen_for = person_id if base == OFFICE else None
    return _hospital_check(page, session, base, chosen_for, category, destination, hospital_ids)


@dataclass
class Uploaded:
    kind: str
    file: UploadFile


def _uploads(kinds: list[str], files: list[UploadFile]) -> list[Uploaded]:
    """The files chosen on the form, each with the kind named beside its input (empty file
    inputs are skipped)."""
    return [
        Uploaded(kind, f) for kind, f in zip(kinds, files, strict=False) if f.filename and f.size
    ]


def _store(
    session: Session, request: Request, actor: User, filing_id: int, upload: Uploaded
) -> None:
    settings = _settings(request)
    limit: int = settings.upload_max_bytes
    filings.upload_document(
        session,
        actor=actor,
        filing_id=filing_id,
        upload=documents.Upload(
            doc_type=upload.kind,
            filename=upload.file.filename or "upload",
            content_type=upload.file.content_type or "application/octet-stream",
            data=upload.file.file.read(limit + 1),
            upload_dir=settings.upload_dir,
            max_bytes=limit,
        ),
    )


FormText = Annotated[str, Form(max_length=200)]
FormShort = Annotated[str, Form(max_length=40)]


@dataclass
class ApplyForm:
    """The application form as posted."""

    action: str
    answers: Answers
    hospital_ids: list[str]
    referral_hospital_id: str
    file_kinds: list[str]
    files: list[UploadFile]


def _apply_form(
    person_id: Annotated[str, Form(max_length=20)] = "",
    destination: Annotated[str, Form(max_length=6)] = "",
    category: FormShort = "",
    hospital_ids: Annotated[list[str], Form(max_length=10)] = [],  # noqa: B006
    phone: FormShort = "",
    address: FormText = "",
    commitment: FormShort = "",
    signer: FormShort = "",
    referral_hospital_id: Annotated[str, Form(max_length=20)] = "",
    hotline_reference: Annotated[str, Form(max_length=60)] = "",
    hotline_called_on: FormShort = "",
    treatment_start: FormShort = "",
    treatment_end: FormShort = "",
    file_kind: Annotated[list[str], Form(max_length=20)] = [],  # noqa: B006
    file: Annotated[list[UploadFile], File()] = [],  # noqa: B006
    action: Annotated[Literal["check", "draft", "submit"], Form()] = "draft",
) -> ApplyForm:
    answers = Answers(
        person_id=int(person_id) if person_id.isdigit() and len(person_id) < 19 else None,
        destination=destination.strip(),
        category=category.strip(),
        phone=phone,
        address=address,
        commitment=commitment == "yes",
        signer=signer,
        hotline_reference=hotline_reference,
        hotline_called_on=hotline_called_on,
        treatment_start=treatment_start,
        treatment_end=treatment_end,
    )
    return ApplyForm(action, answers, hospital_ids, referral_hospital_id, file_kind, file)


ApplyFormDep = Annotated[ApplyForm, Depends(_apply_form)]


def _apply(page: Page, session: Session, request: Request, base: str, form: ApplyForm) -> Response:
    answers = form.answers
    person = _person_for(page, session, base, answers.person_id)
    if person is None:
        return _render_form(
            page,
            session,
            base=base,
            person=None,
            answers=answers,
            find_error=FormError(NO_PERSON).shown(),
        )
    try:
        answers.hospital_ids = _ints(form.hospital_ids)
        referral = _ints([form.referral_hospital_id]) if form.referral_hospital_id else ()
        answers.referral_hospital_id = referral[0] if referral else None
    except FormError as exc:
        return _render_form(
            page, session, base=base, person=person, answers=answers, error=exc.shown()
        )
    if form.action == "check":
        check = None
        if answers.category and answers.destination and answers.hospital_ids:
            check = filings.check_hospital_choice(
                session,
                actor=page.actor,
                person_id=person.id,
                category=answers.category,
                destination=answers.destination,
                hospital_ids=answers.hospital_ids,
            )
        return _render_form(page, session, base=base, person=person, answers=answers, check=check)
    today = current_day()
    settings = _settings(request)
    uploads = _uploads(form.file_kinds, form.files)

    def apply() -> Filing:
        if not answers.destination:
            raise FormError(NO_DESTINATION)
        if not answers.category:
            raise FormError(NO_CATEGORY)
        called = day_field(answers.hotline_called_on, BAD_DATE)
        filing = filings.create_filing(
            session,
            actor=page.actor,
            request=filings.FilingRequest(
                person_id=person.id,
                category=answers.category,
                destination=answers.destination,
                hospital_ids=list(answers.hospital_ids) or None,
                referral_hospital_id=answers.referral_hospital_id,
                hotline_reference=answers.hotline_reference.strip() or None,
                hotline_called_at=datetime.combine(called, time(12), tzinfo=CHINA)
                if called
                else None,
                treatment_start=day_field(answers.treatment_start, BAD_DATE),
                treatment_end=day_field(answers.treatment_end, BAD_DATE),
            ),
            today=today,
        )
        contact = Contact(phone=answers.phone, address=answers.address)
        filings.record_application_form(
            session,
            actor=page.actor,
            filing_id=filing.id,
            contact=contact,
            today=today,
            upload_dir=settings.upload_dir,
            max_bytes=settings.upload_max_bytes,
        )
        if answers.commitment:
            filings.sign_commitment(
                session,
                actor=page.actor,
                filing_id=filing.id,
                signer=answers.signer,
                contact=contact,
                today=today,
                upload_dir=settings.upload_dir,
                max_bytes=settings.upload_max_bytes,
            )
        for upload in uploads:
            _store(session, request, page.actor, filing.id, upload)
        return filing

    filing, error = attempt(session, apply)
    if filing is None:
        return _render_form(page, session, base=base, person=person, answers=answers, error=error)
    target = f"{base}/filings/{filing.id}"
    if form.action == "submit":
        filing_id = filing.id
        _, problem = attempt(
            session,
            lambda: filings.submit_filing(
                session, actor=page.actor, filing_id=filing_id, today=today
            ),
        )
        if problem is not None:
            return page.redirect(f"{target}?not_submitted=1")
    return page.redirect(target)


@router.post("/me/filings/new")
@router.post("/office/filings/new")
def apply(
    page: ApplicantPage, session: SessionDep, request: Request, form: ApplyFormDep
) -> Response:
    base = base_of(page)
    if base == ME:  # the insured person files for themself only
        form.answers.person_id = None
    return _apply(page, session, request, base, form)


# --- one filing -----------------------------------------------------------------------------

FilingId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _detail(
    page: Page,
    session: Session,
    base: str,
    filing_id: int,
    *,
    error: dict[str, Any] | None = None,
    not_submitted: bool = False,
    check: list[str] | None = None,
) -> Response:
    today = current_day()
    filing = views.get_filing(session, actor=page.actor, filing_id=filing_id)
    person = views.person_of_filing(session, filing.person_id)
    state = views.current_state(filing, today)
    actions = views.allowed_actions(session, actor=page.actor, filing=filing, today=today)
    stamps = views.hospital_stamps(session, filing=filing)
    editable = filing.state in (FilingState.DRAFT, FilingState.RETURNED)
    policy_options = {
        o.code: o
        for o in filings.category_options(
            session, actor=page.actor, person_id=person.id, today=today
        )
    }
    option = policy_options.get(filing.category)
    missing = views.missing_documents(session, filing=filing)
    return page.render(
        "filing_detail.html",
        status_code=status_of(error),
        base=base,
        filing=filing,
        person=person,
        identity_masked=mask_identity_number(person.identity_number),
        state=state,
        actions=actions,
        names=Names(session),
        hospitals=views.applicable_hospitals(session, filing=filing),
        chosen=filing.hospitals_chosen,
        stamps=stamps,
        stamps_required=views.needs_hospital_stamps(filing),
        to_stamp=views.hospitals_to_stamp(session, filing=filing),
        documents=filings.filing_documents(session, actor=page.actor, filing_id=filing.id),
        missing=missing,
        open=filing.state in OPEN_STATES,
        editable=editable,
        commitment_allowed=filings.commitment_allowed(filing),
        residence_missing=rules.RESIDENCE_PROOF in missing,
        choosable=(
            filings.choosable_hospitals(session, destination=filing.destination)
            if editable and option is not None and option.hospital_choice
            else []
        ),
        history=filings.filing_history(session, actor=page.actor, filing_id=filing.id),
        local_use_from=views.local_use_from(filing, today),
        home_again_on=rules.cancellation_end(today) + timedelta(days=1),
        document_names=document_names(page.lang),
        history_names=HISTORY,
        specialties=HOSPITAL_SPECIALTIES,
        upload_kinds=[str(k) for k in FILING_DOCUMENT_KINDS],
        error=error,
        not_submitted=not_submitted,
        check=check,
        today=today,
    )


@router.get("/me/filings/{filing_id}")
@router.get("/office/filings/{filing_id}")
def filing_detail(
    page: ApplicantPage,
    session: SessionDep,
    filing_id: FilingId,
    not_submitted: Annotated[bool, Query()] = False,
) -> Response:
    return _detail(page, session, base_of(page), filing_id, not_submitted=not_submitted)


def _add_document(
    page: Page,
    session: Session,
    request: Request,
    base: str,
    filing_id: int,
    kind: str,
    file: UploadFile,
) -> Response:
    views.get_filing(session, actor=page.actor, filing_id=filing_id)

    def add() -> None:
        if not file.filename or not file.size:
            raise FormError(N_("Choose the file to upload."))
        _store(session, request, page.actor, filing_id, Uploaded(kind, file))

    return act(
        page,
        session,
        add,
        then=f"{base}/filings/{filing_id}",
        failed=lambda error: _detail(page, session, base, filing_id, error=error),
    )


DocKind = Annotated[str, Form(max_length=40)]
DocFile = Annotated[UploadFile, File()]


@router.post("/me/filings/{filing_id}/documents")
@router.post("/office/filings/{filing_id}/documents")
def add_document(
    page: ApplicantPage,
    session: SessionDep,
    request: Request,
    filing_id: FilingId,
    doc_type: DocKind,
    file: DocFile,
) -> Response:
    return _add_document(page, session, request, base_of(page), filing_id, doc_type, file)


def _sign(
    page: Page,
    session: Session,
    request: Request,
    base: str,
    filing_id: int,
    signer: str,
    phone: str,
    address: str,
) -> Response:
    views.get_filing(session, actor=page.actor, filing_id=filing_id)
    settings = _settings(request)
    return act(
        page,
        session,
        lambda: filings.sign_commitment(
            session,
            actor=page.actor,
            filing_id=filing_id,
            signer=signer,
            contact=Contact(phone=phone, address=address),
            today=current_day(),
            upload_dir=settings.upload_dir,
            max_bytes=settings.upload_max_bytes,
        ),
        then=f"{base}/filings/{filing_id}",
        failed=lambda error: _detail(page, session, base, filing_id, error=error),
    )


@router.post("/me/filings/{filing_id}/commitment")
@router.post("/office/filings/{filing_id}/commitment")
def sign(
    page: ApplicantPage,
    session: SessionDep,
    request: Request,
    filing_id: FilingId,
    signer: FormShort = "",
    phone: FormShort = "",
    address: FormText = "",
) -> Response:
    return _sign(page, session, request, base_of(page), filing_id, signer, phone, address)


def _edit_hospitals(
    page: Page, session: Session, base: str, filing_id: int, hospital_ids: list[str]
) -> Response:
    views.get_filing(session, actor=page.actor, filing_id=filing_id)

    def edit() -> Filing:
        return filings.edit_application(
            session,
            actor=page.actor,
            filing_id=filing_id,
            destination=None,
            hospital_ids=list(_ints(hospital_ids)),
            today=current_day(),
        )

    return act(
        page,
        session,
        edit,
        then=f"{base}/filings/{filing_id}",
        failed=lambda error: _detail(page, session, base, filing_id, error=error),
    )


FormIds = Annotated[list[str], Form(max_length=10)]


@router.post("/me/filings/{filing_id}/hospitals")
@router.post("/office/filings/{filing_id}/hospitals")
def edit_hospitals(
    page: ApplicantPage,
    session: SessionDep,
    filing_id: FilingId,
    hospital_ids: FormIds = [],  # noqa: B006
) -> Response:
    return _edit_hospitals(page, session, base_of(page), filing_id, hospital_ids)


def filing_document(
    page: Page,
    session: Session,
    filing_id: int,
    document_id: int,
    *,
    disposition: Literal["inline", "attachment"],
) -> Response:
    """A document of a filing the signed-in user may see (the service decides): saved by
    the applicant, shown in the browser to the reviewer."""
    doc, path = filings.filing_document_file(
        session,
        actor=page.actor,
        filing_id=filing_id,
        document_id=document_id,
        upload_dir=_settings(page.request).upload_dir,
    )
    return document_response(page, doc, path, disposition=disposition)


@router.get("/me/filings/{filing_id}/documents/{document_id}")
@router.get("/office/filings/{filing_id}/documents/{document_id}")
def applicant_document(
    page: ApplicantPage, session: SessionDep, filing_id: FilingId, document_id: FilingId
) -> Response:
    return filing_document(page, session, filing_id, document_id, disposition="attachment")


Move = Literal["submit", "withdraw", "cancel", "renew"]
Reason = Annotated[str, Form(max_length=2000)]


def _move(
    page: Page, session: Session, base: str, filing_id: int, move: str, reason: str
) -> Response:
    """One of the applicant's moves on a filing, by the service that owns it."""
    actor, today = page.actor, current_day()
    views.get_filing(session, actor=actor, filing_id=filing_id)  # 404 before anything
    calls = {
        "submit": lambda: filings.submit_filing(
            session, actor=actor, filing_id=filing_id, today=today
        ),
        "withdraw": lambda: filings.withdraw_filing(
            session, actor=actor, filing_id=filing_id, reason=reason.strip() or None, today=today
        ),
        "cancel": lambda: filings.cancel_filing(
            session, actor=actor, filing_id=filing_id, reason=reason.strip() or None, today=today
        ),
        "renew": lambda: filings.renew_filing(
            session, actor=actor, filing_id=filing_id, today=today
        ),
    }
    result, error = attempt(session, calls[move])
    if error is not None or result is None:
        return _detail(page, session, base, filing_id, error=error)
    return page.redirect(f"{base}/filings/{result.id}")


@router.post("/me/filings/{filing_id}/{move}")
@router.post("/office/filings/{filing_id}/{move}")
def move(
    page: ApplicantPage, session: SessionDep, filing_id: FilingId, move: Move, reason: Reason = ""
) -> Response:
    return _move(page, session, base_of(page), filing_id, move, reason)
