"""Shared fixtures: a fresh database per run, migrated with Alembic, one rollback per test.

``YIBAO_TEST_DB=sqlite`` (default) uses a SQLite file in a temporary folder;
``YIBAO_TEST_DB=postgres`` creates ``yibao_t_<random>`` on the server of
``YIBAO_TEST_PG_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``)
and drops it at the end, so parallel runs never share a database.

Each test runs inside an outer transaction; the session joins it with
``join_transaction_mode="create_savepoint"``, so services and the API may commit (a
savepoint is released) and everything is rolled back when the test ends.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

import yibao.all_models
import yibao.wiring  # noqa: F401  (every reaction between concepts is subscribed, as in the faces)
from yibao.api.app import create_app
from yibao.auth.deps import get_session
from yibao.auth.models import User
from yibao.config import Settings
from yibao.db import make_engine, upgrade_database
from yibao.identity import make_identity_number
from yibao.registry.models import (
    Account,
    Agency,
    Institution,
    Person,
    Region,
    Unit,
)
from yibao.users.service import create_user

PG_ADMIN_URL = os.environ.get(
    "YIBAO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _backend() -> str:
    backend = os.environ.get("YIBAO_TEST_DB", "sqlite")
    if backend not in ("sqlite", "postgres"):
        raise pytest.UsageError(f"YIBAO_TEST_DB must be sqlite or postgres, not {backend!r}")
    return backend


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``postgres`` test what only PostgreSQL has (roles, several server nodes,
    the crash test) on a database of their own whatever ``YIBAO_TEST_DB`` says: they run in
    the PostgreSQL pass of ``make test`` (required with CI=true), not a second time in the
    SQLite pass."""
    if _backend() != "sqlite":
        return
    kept = [item for item in items if item.get_closest_marker("postgres") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


@pytest.fixture(scope="session")
def db_backend() -> str:
    return _backend()


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database created for this run only."""
    if _backend() == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "yibao-test.db"
        yield f"sqlite:///{path}"
        return
    name = f"yibao_t_{secrets.token_hex(6)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    """The run's engine, its schema built by the Alembic migrations (never create_all)."""
    upgrade_database(db_url)
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    connection = engine.connect()
    outer = connection.begin()
    sess = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield sess
    finally:
        sess.close()
        if outer.is_active:
            outer.rollback()
        connection.close()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(environment="test", database_url=db_url, upload_dir=tmp_path / "uploads")


@pytest.fixture
def app(settings: Settings, engine: Engine, session: Session) -> Any:
    application = create_app(settings, engine=engine)

    def _test_session() -> Iterator[Session]:
        # What the test set up before the request is committed, as it would be in real
        # life; then the same contract as session_scope: commit (release the savepoint)
        # or roll back.
        session.commit()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

    application.dependency_overrides[get_session] = _test_session
    return application


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    """An HTTP client over the app, sharing the test's session and transaction."""
    with TestClient(app, raise_server_exceptions=True) as test_client:
        yield test_client


# --- registry data and users ---------------------------------------------------------


@dataclass
class World:
    """A small registry: Beijing insures, Sanya and Baoding treat."""

    beijing: Region
    sanya: Region
    baoding: Region
    center: Agency
    street_office: Agency
    sanya_agency: Agency
    baoding_center: Agency
    unit: Unit
    other_unit: Unit
    hospital: Institution
    other_hospital: Institution
    pharmacy: Institution
    beijing_hospital: Institution
    retiree: Person
    worker: Person
    spouse: Person
    baoding_person: Person


def add_person(
    session: Session,
    *,
    name: str,
    region: str,
    born: date,
    sequence: int,
    scheme: str = "employee",
    person_type: str = "in_service",
    unit: Unit | None = None,
    balance_fen: int = 0,
    card_number: str | None = None,
) -> Person:
    number = make_identity_number(region, born, sequence)
    person = Person(
        identity_number=number,
        name=name,
        sex="M" if sequence % 2 else "F",
        birth_date=born,
        scheme=scheme,
        person_type=person_type,
        insured_region=region,
        unit_id=unit.id if unit else None,
        assistance_eligible=False,
        card_number=card_number,
    )
    session.add(person)
    session.flush()
    session.add(Account(person_id=person.id, balance_fen=balance_fen))
    session.flush()
    return person


@pytest.fixture
def world(session: Session) -> World:
    regions = [
        Region(code="110000", name="北京市", province_code="110000"),
        Region(code="460000", name="海南省", province_code="460000"),
        Region(code="460200", name="三亚市", province_code="460000"),
        Region(code="130000", name="河北省", province_code="130000"),
        Region(code="130600", name="保定市", province_code="130000"),
    ]
    session.add_all(regions)
    session.flush()
    center = Agency(name="北京市医保中心", kind="insurance_center", region_code="110000")
    street = Agency(name="朝阳区某街道社保所", kind="street_office", region_code="110000")
    sanya_agency = Agency(name="三亚市医保局", kind="treatment_agency", region_code="460200")
    baoding_center = Agency(name="保定市医保中心", kind="insurance_center", region_code="130600")
    unit = Unit(name="北京某公司", region_code="110000")
    other_unit = Unit(name="北京另一公司", region_code="110000")
    session.add_all([center, street, sanya_agency, baoding_center, unit, other_unit])
    hospital = Institution(
        code="H460200001",
        name="三亚市人民医院",
        region_code="460200",
        kind="hospital",
        level=3,
        specialty="general",
        designated=True,
        networked=True,
    )
    other_hospital = Institution(
        code="H130600001",
        name="保定市第一医院",
        region_code="130600",
        kind="hospital",
        level=3,
        specialty="general",
        designated=True,
        networked=True,
    )
    pharmacy = Institution(
        code="P460200001",
        name="三亚某大药房",
        region_code="460200",
        kind="pharmacy",
        level=None,
        specialty="general",
        designated=True,
        networked=True,
    )
    beijing_hospital = Institution(
        code="H110000001",
        name="北京某区医院",
        region_code="110000",
        kind="hospital",
        level=2,
        specialty="general",
        designated=True,
        networked=True,
    )
    session.add_all([hospital, other_hospital, pharmacy, beijing_hospital])
    session.flush()
    retiree = add_person(
        session,
        name="王退休",
        region="110000",
        born=date(1955, 3, 1),
        sequence=11,
        person_type="retired",
        balance_fen=123_456,
        card_number="BJ0001",
    )
    worker = add_person(
        session,
        name="李在职",
        region="110000",
        born=date(1985, 6, 15),
        sequence=22,
        unit=unit,
        balance_fen=50_000,
    )
    spouse = add_person(
        session,
        name="张配偶",
        region="110000",
        born=date(1987, 1, 20),
        sequence=24,
        unit=other_unit,
    )
    baoding_person = add_person(
        session,
        name="赵保定",
        region="130600",
        born=date(1970, 9, 9),
        sequence=33,
        scheme="resident",
        person_type="adult",
    )
    session.commit()
    return World(
        beijing=regions[0],
        sanya=regions[2],
        baoding=regions[4],
        center=center,
        street_office=street,
        sanya_agency=sanya_agency,
        baoding_center=baoding_center,
        unit=unit,
        other_unit=other_unit,
        hospital=hospital,
        other_hospital=other_hospital,
        pharmacy=pharmacy,
        beijing_hospital=beijing_hospital,
        retiree=retiree,
        worker=worker,
        spouse=spouse,
        baoding_person=baoding_person,
    )


@dataclass
class AuthUser:
    user: User
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


MakeUser = Callable[..., AuthUser]


@pytest.fixture
def make_user(session: Session, world: World) -> MakeUser:
    """``make_user("agency")`` → a user of that role scoped to the world's defaults.

    Keyword arguments override the scope (``person_id``, ``unit_id``, ``agency_id``,
    ``institution_id``, ``region_code``).
    """

    defaults: dict[str, dict[str, Any]] = {
        "insured": {"person_id": world.retiree.id},
        "unit": {"unit_id": world.unit.id},
        "street_office": {"agency_id": world.street_office.id},
        "agency": {"agency_id": world.center.id},
        "hospital": {"institution_id": world.hospital.id},
        "admin": {},
    }

    def _make(role: str, **scope: Any) -> AuthUser:
        kwargs = scope or defaults[role]
        issued = create_user(session, name=f"test {role}", role=role, **kwargs)
        return AuthUser(user=issued.user, token=issued.token)

    return _make


@pytest.fixture
def users(make_user: MakeUser) -> dict[str, AuthUser]:
    """One user per role with the default scope."""
    roles = ("insured", "unit", "street_office", "agency", "hospital", "admin")
    return {role: make_user(role) for role in roles}
