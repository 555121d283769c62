"""User administration: create users with the scope their role needs, list them.

Tokens are issued by :mod:`yibao.auth.tokens` and shown once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibao.audit.service import Actor, record, snapshot
from yibao.auth import passwords
from yibao.auth.models import ROLES, User
from yibao.auth.sessions import end_all_sessions, end_other_sessions
from yibao.auth.tokens import new_token
from yibao.errors import NotFound, ValidationFailed
from yibao.registry.models import Agency, Institution, Person, Unit

USER_FIELDS = (
    "name",
    "role",
    "person_id",
    "unit_id",
    "agency_id",
    "institution_id",
    "region_code",
    "active",
)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    user: User
    token: str


def _need(session: Session, model: type[object], key: object, what: str) -> None:
    if key is None or session.get(model, key) is None:
        raise ValidationFailed(f"{what} {key} does not exist", code="user.scope_unknown")


# The agency kinds each desk role may work for: an agency user acts as its agency's kind
# (insured region's centre or treatment region's agency), see ``registry.access``.
DESK_KINDS = {
    "agency": ("insurance_center", "treatment_agency"),
    "street_office": ("street_office",),
}


def _desk_region(session: Session, role: str, agency_id: int | None, region: str | None) -> str:
    """An agency or street office user works for one agency, in that agency's region."""
    if agency_id is None:
        raise ValidationFailed(
            f"a {role} user needs the agency it works for (agency_id)", code="user.scope_unknown"
        )
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise ValidationFailed(f"agency {agency_id} does not exist", code="user.scope_unknown")
    if agency.kind not in DESK_KINDS[role]:
        raise ValidationFailed(
            f"a {role} user cannot work for a {agency.kind} ({agency.name})",
            code="user.scope_kind",
        )
    if region is not None and region != agency.region_code:
        raise ValidationFailed(
            f"agency {agency_id} is in region {agency.region_code}, not {region}",
            code="user.scope_region",
        )
    return agency.region_code


def create_user(
    session: Session,
    *,
    name: str,
    role: str,
    person_id: int | None = None,
    unit_id: int | None = None,
    agency_id: int | None = None,
    institution_id: int | None = None,
    region_code: str | None = None,
    actor: Actor = None,
) -> IssuedToken:
    """A new user with the scope its role needs; returns the token (shown once)."""
    if role not in ROLES:
        raise ValidationFailed(
            f"unknown role {role!r}; roles: {', '.join(ROLES)}", code="user.role_unknown"
        )
    if role == "insured":
        _need(session, Person, person_id, "person")
    elif role == "unit":
        _need(session, Unit, unit_id, "unit")
    elif role in ("street_office", "agency"):
        region_code = _desk_region(session, role, agency_id, region_code)
    elif role == "hospital":
        _need(session, Institution, institution_id, "institution")
    token_id, token, token_hash = new_token()
    user = User(
        name=name,
        role=role,
        token_id=token_id,
        token_hash=token_hash,
        person_id=person_id,
        unit_id=unit_id,
        agency_id=agency_id,
        institution_id=institution_id,
        region_code=region_code,
        active=True,
    )
    session.add(user)
    session.flush()
    record(
        session,
        actor=actor,
        action="user.created",
        entity="user",
        entity_id=user.id,
        before=None,
        after=snapshot(user, USER_FIELDS),
    )
    return IssuedToken(user=user, token=token)


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def set_password(
    session: Session, *, user_id: int, password: str, login: str | None = None, actor: Actor
) -> User:
    """Give a user a password for the pages (and a login name, required the first time).

    Unlocks the account and signs every browser of the user out. The audit entry names the
    login, never the password or its hash.
    """
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found", code="user.not_found")
    before = snapshot(user, ("login",))
    passwords.set_password(session, user=user, password=password, login=login)
    end_all_sessions(session, user_id=user.id)
    record(
        session,
        actor=actor,
        action="user.password_set",
        entity="user",
        entity_id=user.id,
        before=before,
        after=snapshot(user, ("login",)),
    )
    return user


# --- the administration pages and self-registration ------------------------------------


def list_users_page(
    session: Session, *, role: str | None = None, limit: int = 50, offset: int = 0
) -> list[User]:
    """Users, newest first, a page at a time, optionally of one role."""
    stmt = select(User)
    if role is not None:
        stmt = stmt.where(User.role == role)
    return list(session.scalars(stmt.order_by(User.id.desc()).limit(limit).offset(offset)))


def get_user(session: Session, *, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found", code="user.not_found")
    return user


def user_of_person(session: Session, *, person_id: int) -> User | None:
    """The insured user bound to a person, if any."""
    return session.scalars(
        select(User).where(User.person_id == person_id, User.role == "insured").limit(1)
    ).first()


def login_taken(session: Session, *, login: str) -> bool:
    name = passwords.normalise_login(login)
    return session.scalars(select(User.id).where(User.login == name).limit(1)).first() is not None


def temporary_password() -> str:
    """A password to hand over once at a desk (12 characters, no look-alikes)."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


def reset_password(
    session: Session, *, user_id: int, login: str | None = None, actor: Actor
) -> tuple[User, str]:
    """A new temporary password for a user (and a login name when it has none yet): the
    account is unlocked and signed out everywhere. Returns the password, to show once."""
    user = get_user(session, user_id=user_id)
    password = temporary_password()
    set_password(
        session,
        user_id=user.id,
        password=password,
        login=login if login or user.login is None else None,
        actor=actor,
    )
    user.must_change_password = True  # a password seen at a desk: changed at next sign-in
    session.flush()
    return user, password


def unlock_user(session: Session, *, user_id: int, actor: Actor) -> User:
    """Lift a lockout after failed sign-ins (the password stays)."""
    user = get_user(session, user_id=user_id)
    before = snapshot(user, ("failed_logins", "locked_until"))
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    record(
        session,
        actor=actor,
        action="user.unlocked",
        entity="user",
        entity_id=user.id,
        before=before,
        after=snapshot(user, ("failed_logins", "locked_until")),
    )
    return user


def change_own_password(
    session: Session,
    *,
    actor: User,
    current_password: str,
    new_password: str,
    keep_session: str | None = None,
) -> User:
    """A signed-in user chooses a new password, proving the present one.

    A password an administrator gave (``must_change_password``) stops being asked for. Every
    other browser of the user is signed out (``keep_session``: the token of the browser
    where the password was changed). The audit entry never holds a password.
    """
    user = get_user(session, user_id=actor.id)
    if not passwords.password_matches(user, current_password):
        raise ValidationFailed("the current password is wrong", code="user.current_password_wrong")
    if new_password == current_password:
        raise ValidationFailed(
            "the new password must differ from the current one", code="user.password_unchanged"
        )
    before = snapshot(user, ("must_change_password",))
    passwords.set_password(session, user=user, password=new_password)
    user.must_change_password = False
    end_other_sessions(session, user_id=user.id, keep=keep_session)
    session.flush()
    record(
        session,
        actor=actor,
        action="user.password_changed",
        entity="user",
        entity_id=user.id,
        before=before,
        after=snapshot(user, ("must_change_password",)),
    )
    return user
