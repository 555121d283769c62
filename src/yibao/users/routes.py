"""User administration (admins): create users, list them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from yibao.auth.deps import SessionDep, require_roles
from yibao.auth.models import User
from yibao.users import service
from yibao.users.schemas import UserCreate, UserCreated, UserRead

router = APIRouter(tags=["users"])

Admin = Annotated[User, require_roles("admin")]


@router.get("/users", response_model=list[UserRead])
def list_users(session: SessionDep, _user: Admin) -> list[UserRead]:
    return [UserRead.model_validate(u) for u in service.list_users(session)]


@router.post("/users", response_model=UserCreated, status_code=201)
def create_user(body: UserCreate, session: SessionDep, user: Admin) -> UserCreated:
    """Create a user; the response holds the bearer token, which is never shown again."""
    issued = service.create_user(session, **body.model_dump(), actor=user)
    return UserCreated(**UserRead.model_validate(issued.user).model_dump(), token=issued.token)
