"""The platform skeleton: migrations, transactions, tokens, problem+json, the audit log."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tests.conftest import MakeUser, World
from yibao.audit.models import AuditEntry
from yibao.audit.service import record
from yibao.auth.tokens import authenticate
from yibao.errors import Unauthorized
from yibao.registry.models import Region


def test_schema_comes_from_the_migrations(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    expected = {
        "regions", "agencies", "institutions", "units", "persons", "accounts",
        "account_movements", "family_links", "users", "audit_log", "policy_versions",
        "catalog_versions", "catalog_items", "alembic_version",
    }  # fmt: skip
    assert expected <= tables


def test_each_test_is_rolled_back_part_one(session: Session) -> None:
    session.add(Region(code="999900", name="rollback probe", province_code="999900"))
    session.commit()  # releases a savepoint only
    assert session.get(Region, "999900") is not None


def test_each_test_is_rolled_back_part_two(session: Session) -> None:
    assert session.get(Region, "999900") is None


def test_token_authenticates_and_wrong_secret_does_not(
    session: Session, make_user: MakeUser, world: World
) -> None:
    admin = make_user("admin")
    assert authenticate(session, token=admin.token).id == admin.user.id
    forged = admin.token[:-4] + ("AAAA" if not admin.token.endswith("AAAA") else "BBBB")
    with pytest.raises(Unauthorized):
        authenticate(session, token=forged)
    assert admin.token.split("_", 2)[2] not in admin.user.token_hash


def test_me_needs_a_token(client: TestClient, make_user: MakeUser) -> None:
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "auth.missing_token"
    assert body["status"] == 401
    assert {"type", "title", "detail"} <= body.keys()

    agency = make_user("agency")
    response = client.get("/api/v1/me", headers=agency.headers)
    assert response.status_code == 200
    assert response.json()["role"] == "agency"
    assert response.json()["region_code"] == "110000"  # taken from the agency


def test_bad_token_is_401(client: TestClient) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer yb_nope_nope"})
    assert response.status_code == 401
    assert response.json()["code"] == "auth.invalid_token"


def test_unknown_route_is_problem_json(client: TestClient) -> None:
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_audit_log_is_append_only(session: Session, db_backend: str) -> None:
    entry = record(
        session,
        actor="test",
        action="probe.changed",
        entity="probe",
        entity_id=1,
        before={"identity_number": "110105194912310014", "state": "a"},
        after={"state": "b"},
    )
    stored = session.scalars(select(AuditEntry).where(AuditEntry.id == entry.id)).one()
    assert stored.before == {"identity_number": "110105********0014", "state": "a"}
    with pytest.raises(DBAPIError), session.begin_nested():
        session.execute(text("UPDATE audit_log SET action = 'x' WHERE id = :i"), {"i": entry.id})
    with pytest.raises(DBAPIError), session.begin_nested():
        session.execute(text("DELETE FROM audit_log WHERE id = :i"), {"i": entry.id})
