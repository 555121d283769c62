"""The administration pages (平台管理): users and their roles, institutions, regions, units.

Each page calls what the API's routes call (``/users``, ``/regions``, ``/institutions``,
``/units``) with the signed-in admin as the actor. A new password is a temporary one made
by :func:`yibao.users.service.reset_password`, shown once on the answer to the POST (never
in an address, never stored but as its hash).
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from yibao.auth.deps import SessionDep
from yibao.auth.models import ROLES, User
from yibao.clock import as_utc
from yibao.registry import repository as registry_repo
from yibao.registry import service as registry
from yibao.registry.models import Agency, Institution
from yibao.users import service as users
from yibao.web.forms import FormError, act, attempt, status_of
from yibao.web.i18n import N_
from yibao.web.page import AdminPage, Page, check_csrf, now
from yibao.web.paging import PageNumber, Paging
from yibao.web.routes import MAX_ID, PageRoute

PER_PAGE: Final = 50
USER_FORM: Final = (
    "name",
    "role",
    "login",
    "agency_id",
    "institution_id",
    "unit_id",
    "identity_number",
)

NAME_REQUIRED: Final = N_("Give the name.")
PERSON_NEEDED: Final = N_("An insured person's user needs the person's identity number.")
PERSON_UNKNOWN: Final = N_("No insured person has this identity number.")
LOGIN_NEEDED: Final = N_("This user has no login name yet: give one.")
LEVEL_NEEDED: Final = N_("A hospital has level 1, 2 or 3; a pharmacy has none.")

AGENCY_KINDS: Final = {
    "insurance_center": N_("Insured region's centre"),
    "treatment_agency": N_("Treatment region's agency"),
    "street_office": N_("Street social security office"),
}
INSTITUTION_KINDS: Final = {"hospital": N_("Hospital"), "pharmacy": N_("Pharmacy")}
SPECIALTIES: Final = {"general": N_("General"), "specialised": N_("Specialised")}

router = APIRouter(
    route_class=PageRoute, include_in_schema=False, dependencies=[Depends(check_csrf)]
)


def _named(text: str) -> str:
    """A name typed in a form: given, without the spaces around it."""
    if not text.strip():
        raise FormError(NAME_REQUIRED)
    return text.strip()


def _int(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


# --- users ----------------------------------------------------------------------------------


def _workplaces(session: Session) -> dict[str, Any]:
    """The choices of the user form."""
    return {
        "agencies": registry_repo.list_agencies(session),
        "institutions": registry_repo.list_institutions(session),
        "units": registry_repo.list_units(session),
    }


def _workplace_names(
    session: Session, places: dict[str, Any], users_shown: list[User]
) -> dict[str, dict[Any, str]]:
    """Where each user shown works, by name: agency, institution, unit or bound person."""
    persons = registry.persons_by_id(session, (u.person_id for u in users_shown if u.person_id))
    return {
        "agency_names": {a.id: a.name for a in places["agencies"]},
        "institution_names": {i.id: i.name for i in places["institutions"]},
        "unit_names": {u.id: u.name for u in places["units"]},
        "person_names": {person_id: p.name for person_id, p in persons.items()},
    }


def _users_page(
    page: Page,
    session: Session,
    request: Request,
    *,
    role: str = "",
    number: int = 1,
    error: dict[str, Any] | None = None,
    form: dict[str, str] | None = None,
    issued: dict[str, Any] | None = None,
) -> Response:
    ask = Paging(number, PER_PAGE)
    rows, next_page = ask.split(
        users.list_users_page(session, role=role or None, limit=ask.limit, offset=ask.offset)
    )
    places = _workplaces(session)
    context: dict[str, Any] = {
        "users": rows,
        "role": role,
        "roles": ROLES,
        "number": number,
        "next_page": next_page,
        **_workplace_names(session, places, rows),
        "locked": {
            u.id for u in rows if u.locked_until is not None and as_utc(u.locked_until) > now()
        },
        "error": error,
        "form": {field: "" for field in USER_FORM} | (form or {}),
        "issued": issued,
        "agency_kinds": AGENCY_KINDS,
        **places,
    }
    if page.htmx and error is None and issued is None:
        return page.render("admin_user_table.html", **context)
    return page.render("admin_users.html", status_code=status_of(error), **context)


@router.get("/admin/users")
def user_list(
    page: AdminPage,
    session: SessionDep,
    request: Request,
    role: Annotated[
        Literal["", "insured", "unit", "street_office", "agency", "hospital", "admin"], Query()
    ] = "",
    number: PageNumber = 1,
) -> Response:
    """Users, newest first, by role; the form to create one."""
    return _users_page(page, session, request, role=role, number=number)


@router.post("/admin/users")
def create_user(
    page: AdminPage,
    session: SessionDep,
    request: Request,
    name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    login: Annotated[str, Form(max_length=100)] = "",
    agency_id: Annotated[str, Form(max_length=12)] = "",
    institution_id: Annotated[str, Form(max_length=12)] = "",
    unit_id: Annotated[str, Form(max_length=12)] = "",
    identity_number: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """A new user with the workplace its role needs (``POST /users``) and a login name with
    a temporary password, shown once on this answer."""
    actor = page.actor

    def create() -> tuple[User, str]:
        named = _named(name)
        person_id = None
        if role == "insured":
            if not identity_number.strip():
                raise FormError(PERSON_NEEDED)
            person = registry.find_person_by_identity(
                session, identity_number=identity_number.strip()
            )
            if person is None:
                raise FormError(PERSON_UNKNOWN)
            person_id = person.id
        issued = users.create_user(
            session,
            name=named,
            role=role,
            person_id=person_id,
            unit_id=_int(unit_id) if role == "unit" else None,
            agency_id=_int(agency_id) if role in ("agency", "street_office") else None,
            institution_id=_int(institution_id) if role == "hospital" else None,
            actor=actor,
        )
        if not login.strip():
            raise FormError(LOGIN_NEEDED)
        return users.reset_password(
            session, user_id=issued.user.id, login=login.strip(), actor=actor
        )

    made, error = attempt(session, create)
    form = {
        "name": name,
        "role": role,
        "login": login,
        "agency_id": agency_id,
        "institution_id": institution_id,
        "unit_id": unit_id,
        "identity_number": identity_number,
    }
    if made is None:
        return _users_page(page, session, request, error=error, form=form)
    user, password = made
    return _users_page(
        page, session, request, issued={"user": user, "password": password, "created": True}
    )


@router.get("/admin/users/{user_id}")
def user_detail(
    page: AdminPage,
    session: SessionDep,
    user_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    unlocked: Annotated[bool, Query()] = False,
) -> Response:
    """One user: its role and workplace, the password reset and the unlock."""
    return _user_page(page, session, user_id, unlocked=unlocked)


def _user_page(
    page: Page,
    session: Session,
    user_id: int,
    *,
    error: dict[str, Any] | None = None,
    issued: dict[str, Any] | None = None,
    unlocked: bool = False,
) -> Response:
    user = users.get_user(session, user_id=user_id)
    places = _workplaces(session)
    return page.render(
        "admin_user.html",
        status_code=status_of(error),
        user=user,
        locked=user.locked_until is not None and as_utc(user.locked_until) > now(),
        **_workplace_names(session, places, [user]),
        error=error,
        issued=issued,
        unlocked=unlocked,
    )


@router.post("/admin/users/{user_id}/password")
def reset_password(
    page: AdminPage,
    session: SessionDep,
    user_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    login: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """A new temporary password (the account is unlocked and signed out everywhere),
    shown once on this answer."""
    actor = page.actor
    users.get_user(session, user_id=user_id)  # an unknown user is the 404 page

    def reset() -> tuple[User, str]:
        target = users.get_user(session, user_id=user_id)
        if target.login is None and not login.strip():
            raise FormError(LOGIN_NEEDED)
        return users.reset_password(
            session, user_id=user_id, login=login.strip() or None, actor=actor
        )

    made, error = attempt(session, reset)
    if made is None:
        return _user_page(page, session, user_id, error=error)
    user, password = made
    return _user_page(page, session, user.id, issued={"user": user, "password": password})


@router.post("/admin/users/{user_id}/unlock")
def unlock(
    page: AdminPage, session: SessionDep, user_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> Response:
    users.unlock_user(session, user_id=user_id, actor=page.actor)
    return page.redirect(f"/admin/users/{user_id}?unlocked=1")


# --- regions --------------------------------------------------------------------------------


def _regions_page(
    page: Page,
    session: Session,
    *,
    error: dict[str, Any] | None = None,
    form: dict[str, str] | None = None,
    done: str | None = None,
    agency_error: dict[str, Any] | None = None,
    agency_form: dict[str, str] | None = None,
    agency_done: bool = False,
) -> Response:
    agencies: dict[str, list[Agency]] = {}
    for agency in registry_repo.list_agencies(session):
        agencies.setdefault(agency.region_code, []).append(agency)
    return page.render(
        "admin_regions.html",
        status_code=status_of(error or agency_error),
        regions=registry_repo.list_regions(session),
        agencies=agencies,
        agency_kinds=AGENCY_KINDS,
        error=error,
        form=form or {"code": "", "name": ""},
        done=done,
        agency_error=agency_error,
        agency_form=agency_form or {"name": "", "kind": "", "region_code": ""},
        agency_done=agency_done,
    )


@router.get("/admin/regions")
def region_list(
    page: AdminPage,
    session: SessionDep,
    done: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    agency_added: Annotated[bool, Query()] = False,
) -> Response:
    """Regions (GB/T 2260 codes) with their province and their agencies; the forms to add
    a region and an agency."""
    return _regions_page(page, session, done=done, agency_done=agency_added)


@router.post("/admin/regions")
def create_region(
    page: AdminPage,
    session: SessionDep,
    code: Annotated[str, Form(max_length=20)] = "",
    name: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    actor = page.actor
    return act(
        page,
        session,
        lambda: registry.create_region(session, code=code.strip(), name=_named(name), actor=actor),
        then=lambda region: f"/admin/regions?done={region.code}",
        failed=lambda error: _regions_page(
            page, session, error=error, form={"code": code, "name": name}
        ),
    )


@router.post("/admin/agencies")
def create_agency(
    page: AdminPage,
    session: SessionDep,
    name: Annotated[str, Form(max_length=200)] = "",
    kind: Annotated[str, Form(max_length=40)] = "",
    region_code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """An agency of a region (an insured region's centre, a treatment region's agency or a
    street office), through the registry service as ``POST /api/v1/agencies`` does."""
    actor = page.actor
    return act(
        page,
        session,
        lambda: registry.create_agency(
            session, name=_named(name), kind=kind, region_code=region_code.strip(), actor=actor
        ),
        then=lambda agency: f"/admin/regions?agency_added=1#region-{agency.region_code}",
        failed=lambda error: _regions_page(
            page,
            session,
            agency_error=error,
            agency_form={"name": name, "kind": kind, "region_code": region_code},
        ),
    )


# --- institutions ---------------------------------------------------------------------------


def _institution_form(institution: Institution | None = None) -> dict[str, str]:
    if institution is None:
        return {
            "code": "",
            "name": "",
            "region_code": "",
            "kind": "hospital",
            "level": "",
            "specialty": "general",
            "designated": "on",
            "networked": "",
        }
    return {
        "code": institution.code,
        "name": institution.name,
        "region_code": institution.region_code,
        "kind": institution.kind,
        "level": str(institution.level or ""),
        "specialty": institution.specialty,
        "designated": "on" if institution.designated else "",
        "networked": "on" if institution.networked else "",
    }


def _level(kind: str, text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if text not in ("1", "2", "3"):
        raise FormError(LEVEL_NEEDED)
    return int(text)


def _institutions_page(
    page: Page,
    session: Session,
    *,
    region: str = "",
    kind: str = "",
    number: int = 1,
    error: dict[str, Any] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    ask = Paging(number, PER_PAGE)
    rows = registry_repo.list_institutions(session, region_code=region or None, kind=kind or None)
    shown, next_page = ask.split(rows[ask.offset :])
    return page.render(
        "admin_institutions.html",
        status_code=status_of(error),
        institutions=shown,
        next_page=next_page,
        number=number,
        region=region,
        kind=kind,
        regions=registry_repo.list_regions(session),
        kinds=INSTITUTION_KINDS,
        specialties=SPECIALTIES,
        error=error,
        form=form or _institution_form(),
    )


@router.get("/admin/institutions")
def institution_list(
    page: AdminPage,
    session: SessionDep,
    region: Annotated[str, Query(pattern=r"^(\d{6})?$")] = "",
    kind: Annotated[Literal["hospital", "pharmacy", ""], Query()] = "",
    number: PageNumber = 1,
) -> Response:
    """Designated institutions, by region and kind; the form to add one."""
    return _institutions_page(page, session, region=region, kind=kind, number=number)


@router.post("/admin/institutions")
def create_institution(
    page: AdminPage,
    session: SessionDep,
    code: Annotated[str, Form(max_length=40)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    region_code: Annotated[str, Form(max_length=6)] = "",
    kind: Annotated[str, Form(max_length=20)] = "",
    level: Annotated[str, Form(max_length=2)] = "",
    specialty: Annotated[str, Form(max_length=20)] = "general",
    designated: Annotated[str, Form(max_length=3)] = "",
    networked: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    actor = page.actor
    form = {
        "code": code,
        "name": name,
        "region_code": region_code,
        "kind": kind,
        "level": level,
        "specialty": specialty,
        "designated": designated,
        "networked": networked,
    }

    def create() -> Institution:
        return registry.create_institution(
            session,
            code=_named(code),
            name=_named(name),
            region_code=region_code,
            kind=kind,
            level=_level(kind, level),
            specialty=specialty,
            designated=designated == "on",
            networked=networked == "on",
            actor=actor,
        )

    return act(
        page,
        session,
        create,
        then=lambda institution: f"/admin/institutions/{institution.id}?saved=1",
        failed=lambda error: _institutions_page(page, session, error=error, form=form),
    )


def _institution_page(
    page: Page,
    session: Session,
    institution_id: int,
    *,
    error: dict[str, Any] | None = None,
    form: dict[str, str] | None = None,
    saved: bool = False,
) -> Response:
    institution = registry.get_institution(session, institution_id=institution_id)
    return page.render(
        "admin_institution.html",
        status_code=status_of(error),
        institution=institution,
        region_name=registry.get_region(session, code=institution.region_code).name,
        kinds=INSTITUTION_KINDS,
        specialties=SPECIALTIES,
        error=error,
        form=form or _institution_form(institution),
        saved=saved,
    )


@router.get("/admin/institutions/{institution_id}")
def institution_detail(
    page: AdminPage,
    session: SessionDep,
    institution_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    saved: Annotated[bool, Query()] = False,
) -> Response:
    return _institution_page(page, session, institution_id, saved=saved)


@router.post("/admin/institutions/{institution_id}")
def update_institution(
    page: AdminPage,
    session: SessionDep,
    institution_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    name: Annotated[str, Form(max_length=200)] = "",
    level: Annotated[str, Form(max_length=2)] = "",
    specialty: Annotated[str, Form(max_length=20)] = "general",
    designated: Annotated[str, Form(max_length=3)] = "",
    networked: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    """Name, level, specialty, designation, networking (``PATCH /institutions/{id}``)."""
    actor = page.actor
    institution = registry.get_institution(session, institution_id=institution_id)

    def update() -> Institution:
        return registry.update_institution(
            session,
            institution_id=institution_id,
            changes={
                "name": _named(name),
                "level": _level(institution.kind, level),
                "specialty": specialty,
                "designated": designated == "on",
                "networked": networked == "on",
            },
            actor=actor,
        )

    form = {
        **_institution_form(institution),
        "name": name,
        "level": level,
        "specialty": specialty,
        "designated": designated,
        "networked": networked,
    }
    return act(
        page,
        session,
        update,
        then=f"/admin/institutions/{institution_id}?saved=1",
        failed=lambda error: _institution_page(
            page, session, institution_id, error=error, form=form
        ),
    )


# --- units ----------------------------------------------------------------------------------


def _units_page(
    page: Page,
    session: Session,
    *,
    number: int = 1,
    error: dict[str, Any] | None = None,
    form: dict[str, str] | None = None,
    done: int | None = None,
) -> Response:
    ask = Paging(number, PER_PAGE)
    shown, next_page = ask.split(registry.list_units(session, actor=page.actor)[ask.offset :])
    regions = registry_repo.list_regions(session)
    return page.render(
        "admin_units.html",
        status_code=status_of(error),
        units=shown,
        next_page=next_page,
        number=number,
        regions=regions,
        region_names={r.code: r.name for r in regions},
        error=error,
        form=form or {"name": "", "region_code": ""},
        done=done,
    )


@router.get("/admin/units")
def unit_list(
    page: AdminPage,
    session: SessionDep,
    number: PageNumber = 1,
    done: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    """Insured units (参保单位); the form to add one (the registry keeps no edits of a unit)."""
    return _units_page(page, session, number=number, done=done)


@router.post("/admin/units")
def create_unit(
    page: AdminPage,
    session: SessionDep,
    name: Annotated[str, Form(max_length=200)] = "",
    region_code: Annotated[str, Form(max_length=6)] = "",
) -> Response:
    actor = page.actor
    return act(
        page,
        session,
        lambda: registry.create_unit(
            session, name=_named(name), region_code=region_code, actor=actor
        ),
        then=lambda unit: f"/admin/units?done={unit.id}",
        failed=lambda error: _units_page(
            page, session, error=error, form={"name": name, "region_code": region_code}
        ),
    )
