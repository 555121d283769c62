"""Every route against every role.

* every route but ``/health`` answers 401 (problem+json) without a token;
* a route guarded by ``require_roles`` answers 403 ``auth.role_forbidden`` to every other
  role, and lets its roles through the gate (no 401/403-by-role, no server error);
* the platform's own routes (registry, policies, users, audit) are exercised for real
  with each role: success for the roles that may, 403 for the others.

Routes are discovered from the app, so a new route is checked the day it is added.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import AuthUser, MakeUser, World
from yibao.api.app import API_PREFIX
from yibao.api.routers import ROUTERS
from yibao.auth.deps import get_current_user
from yibao.auth.models import ROLES
from yibao.data import demo_path
from yibao.identity import make_identity_number
from yibao.policies import service as policies
from yibao.registry import service as registry

PUBLIC = {("GET", "/api/v1/health")}


@dataclass(frozen=True)
class RouteInfo:
    method: str
    path: str
    roles: tuple[str, ...] | None  # None: any authenticated user
    authenticated: bool
    module: str

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def _walk(dependant: Any) -> list[Any]:
    calls = []
    for dep in dependant.dependencies:
        calls.append(dep.call)
        calls.extend(_walk(dep))
    return calls


def _discover() -> list[RouteInfo]:
    """Every route of every router in ``ROUTERS``, as mounted under ``/api/v1``."""
    found: list[RouteInfo] = []
    for router in ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute), f"unexpected route type {route!r}"
            calls = _walk(route.dependant)
            roles: tuple[str, ...] | None = None
            for call in calls:
                if getattr(call, "__qualname__", "") == "require_roles.<locals>._check":
                    roles = tuple(inspect.getclosurevars(call).nonlocals["roles"])
            authenticated = get_current_user in calls
            for method in sorted(route.methods):
                found.append(
                    RouteInfo(
                        method,
                        API_PREFIX + route.path,
                        roles,
                        authenticated,
                        route.endpoint.__module__,
                    )
                )
    return found


ROUTES = _discover()
GUARDED = [r for r in ROUTES if r.roles is not None]


def _concrete(path: str) -> str:
    """Path parameters filled with 1 (the gate runs before any lookup)."""
    out, depth = [], 0
    for ch in path:
        if ch == "{":
            depth += 1
            out.append("1")
        elif ch == "}":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def _call(client: TestClient, method: str, path: str, **kwargs: Any) -> Any:
    if method in ("POST", "PUT", "PATCH") and "json" not in kwargs:
        kwargs["json"] = {}
    return client.request(method, path, **kwargs)


def test_only_health_is_public() -> None:
    public = {(r.method, r.path) for r in ROUTES if not r.authenticated}
    assert public == PUBLIC


@pytest.mark.parametrize("route", [r for r in ROUTES if r.authenticated], ids=lambda r: r.id)
def test_no_token_is_401(client: TestClient, route: RouteInfo) -> None:
    response = _call(client, route.method, _concrete(route.path))
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "auth.missing_token"


@pytest.mark.parametrize("route", GUARDED, ids=lambda r: r.id)
def test_role_gate(route: RouteInfo, app: FastAPI, make_user: MakeUser, world: World) -> None:
    """Each of the six roles against the route's gate (one test per route, for speed)."""
    assert route.roles is not None
    users = {role: make_user(role) for role in ROLES}
    wrong: list[str] = []
    with TestClient(app, raise_server_exceptions=False) as client:
        for role in ROLES:
            response = _call(
                client, route.method, _concrete(route.path), headers=users[role].headers
            )
            status = response.status_code
            code = response.json().get("code") if status >= 400 and response.content else None
            if role in route.roles:
                if status == 401 or status >= 500 or code == "auth.role_forbidden":
                    wrong.append(f"{role} (allowed) got {status} {response.text[:200]}")
            elif status != 403 or code != "auth.role_forbidden":
                wrong.append(f"{role} (not allowed) got {status} {response.text[:200]}")
    assert not wrong, "\n".join(wrong)


# --- the platform's routes, for real ---------------------------------------------------

ALL = {role: 200 for role in ROLES}
PLATFORM_MODULES = {
    "yibao.api.system_routes",
    "yibao.registry.routes",
    "yibao.policies.routes",
    "yibao.users.routes",
    "yibao.audit.routes",
}


@dataclass
class Fixture:
    world: World
    policy_id: str
    new_identity: str


Body = Callable[[Fixture], dict[str, Any]]


@dataclass
class Case:
    method: str
    template: str  # the route's path as declared
    path: Callable[[Fixture], str]
    ok: dict[str, int]
    body: Body | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _new_person(f: Fixture) -> dict[str, Any]:
    return {
        "identity_number": f.new_identity,
        "name": "新职工",
        "scheme": "employee",
        "person_type": "in_service",
        "insured_region": "110000",
        "unit_id": f.world.unit.id,
    }


def only(*roles: str, status: int = 200) -> dict[str, int]:
    return {role: status for role in roles}


V1 = "/api/v1"
CASES = [
    Case("GET", "/me", lambda f: "/me", ALL),
    Case("GET", "/regions", lambda f: "/regions", ALL),
    Case("GET", "/regions/{code}", lambda f: "/regions/460200", ALL),
    Case(
        "POST", "/regions", lambda f: "/regions", only("admin", status=201),
        lambda f: {"code": "120000", "name": "天津市"},
    ),
    Case("GET", "/agencies", lambda f: "/agencies?region=110000", ALL),
    Case(
        "POST", "/agencies", lambda f: "/agencies", only("admin", status=201),
        lambda f: {"name": "新社保所", "kind": "street_office", "region_code": "110000"},
    ),
    Case("GET", "/institutions", lambda f: "/institutions?region=460200&networked=true", ALL),
    Case(
        "GET", "/institutions/{institution_id}",
        lambda f: f"/institutions/{f.world.hospital.id}", ALL,
    ),
    Case(
        "POST", "/institutions", lambda f: "/institutions", only("admin", status=201),
        lambda f: {"code": "HNEW", "name": "新医院", "region_code": "110000",
                   "kind": "hospital", "level": 2},
    ),
    Case(
        "PATCH", "/institutions/{institution_id}",
        lambda f: f"/institutions/{f.world.beijing_hospital.id}", only("admin", "agency"),
        lambda f: {"networked": False},
    ),
    Case("GET", "/units", lambda f: "/units", only("admin", "agency", "street_office", "unit")),
    Case(
        "POST", "/units", lambda f: "/units", only("admin", "agency", status=201),
        lambda f: {"name": "新单位", "region_code": "110000"},
    ),
    Case(
        "GET", "/persons", lambda f: "/persons",
        only("admin", "agency", "street_office", "unit", "insured"),
    ),
    Case(
        "POST", "/persons", lambda f: "/persons",
        only("admin", "agency", "street_office", "unit", status=201), _new_person,
    ),
    Case(
        "POST", "/persons/lookup", lambda f: "/persons/lookup",
        only("admin", "agency", "street_office", "unit", "hospital"),
        lambda f: {"identity_number": f.world.worker.identity_number},
    ),
    Case(
        "GET", "/persons/{person_id}", lambda f: f"/persons/{f.world.worker.id}",
        only("admin", "agency", "street_office", "unit", "insured"),
    ),
    Case(
        "PATCH", "/persons/{person_id}", lambda f: f"/persons/{f.world.worker.id}",
        only("admin", "agency"), lambda f: {"assistance_eligible": True},
    ),
    Case(
        "GET", "/persons/{person_id}/account",
        lambda f: f"/persons/{f.world.worker.id}/account",
        only("admin", "agency", "street_office", "insured"),
    ),
    Case(
        "POST", "/persons/{person_id}/account/movements",
        lambda f: f"/persons/{f.world.worker.id}/account/movements",
        only("admin", "agency", status=202),
        lambda f: {"amount": "10.00", "kind": "contribution"},
    ),
    Case(
        "GET", "/persons/{person_id}/family", lambda f: f"/persons/{f.world.worker.id}/family",
        only("admin", "agency", "street_office", "insured"),
    ),
    Case(
        "POST", "/persons/{person_id}/family",
        lambda f: f"/persons/{f.world.worker.id}/family",
        only("admin", "agency", "street_office", status=201),
        lambda f: {"relative_id": f.world.retiree.id, "relation": "parent"},
    ),
    Case(
        "DELETE", "/persons/{person_id}/family/{relative_id}",
        lambda f: f"/persons/{f.world.worker.id}/family/{f.world.spouse.id}",
        only("admin", "agency", "street_office", status=204),
    ),
    Case("GET", "/policies", lambda f: "/policies?region=110000&on=2026-07-01", ALL),
    Case("GET", "/policies/{policy_id}", lambda f: f"/policies/{f.policy_id}", ALL),
    Case("GET", "/catalogs", lambda f: "/catalogs?region=460200", ALL),
    Case(
        "GET", "/catalogs/{region}/items",
        lambda f: "/catalogs/460200/items?on=2026-07-01&code=D0001", ALL,
    ),
    Case("GET", "/users", lambda f: "/users", only("admin")),
    Case(
        "POST", "/users", lambda f: "/users", only("admin", status=201),
        lambda f: {"name": "新管理员", "role": "admin"},
    ),
    Case("GET", "/audit", lambda f: "/audit?limit=5", only("admin")),
    Case("GET", "/audit/identity-reads", lambda f: "/audit/identity-reads", only("admin")),
]  # fmt: skip


def test_every_platform_route_has_a_case() -> None:
    platform = {
        (r.method, r.path)
        for r in ROUTES
        if r.module in PLATFORM_MODULES and (r.method, r.path) not in PUBLIC
    }
    covered = {(c.method, V1 + c.template) for c in CASES}
    assert covered == platform


@pytest.fixture
def fixture(session: Session, world: World) -> Fixture:
    # enrolment accepts the person types the region's policies know: both employee types
    loaded, _ = policies.load_policy_paths(
        session,
        paths=[
            demo_path("policies", "110000-employee-retired-2026.yaml"),
            demo_path("policies", "110000-employee-in_service-2026.yaml"),
        ],
        actor="t",
    )
    catalog = demo_path("catalogs", "460200.csv").read_text(encoding="utf-8").splitlines()
    policies.load_catalog_text(
        session,
        text="\n".join(catalog[:6]) + "\n",  # the header and five items are enough here
        source="460200.csv",
        effective_from=date(2026, 1, 1),
        actor="t",
    )
    registry.link_family(
        session,
        person_id=world.worker.id,
        relative_id=world.spouse.id,
        relation="spouse",
        actor="t",
    )
    session.commit()
    return Fixture(
        world=world,
        policy_id=loaded.key,
        new_identity=make_identity_number("110108", date(1995, 2, 3), 71),
    )


def _user_for(role: str, make_user: MakeUser, world: World) -> AuthUser:
    # The insured caller is the worker, whose records the cases read.
    if role == "insured":
        return make_user("insured", person_id=world.worker.id)
    return make_user(role)


@pytest.mark.parametrize(
    ("case", "role"),
    [(c, role) for c in CASES for role in ROLES],
    ids=lambda v: f"{v.method} {v.template}" if isinstance(v, Case) else v,
)
def test_platform_route(
    case: Case, role: str, client: TestClient, make_user: MakeUser, fixture: Fixture
) -> None:
    user = _user_for(role, make_user, fixture.world)
    kwargs: dict[str, Any] = {"headers": user.headers}
    if case.body is not None:
        kwargs["json"] = case.body(fixture)
    response = client.request(case.method, V1 + case.path(fixture), **kwargs)
    expected = case.ok.get(role, 403)
    assert response.status_code == expected, response.text
    if expected == 403:
        assert response.headers["content-type"] == "application/problem+json"
