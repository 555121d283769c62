"""Every read of a full identity number is recorded: who, whose, when, why (issue 13, item 1).

The decision and the record have one owner, ``registry.access.identity_number_for``; the
REST face, FHIR and the pages reach it. The table is insert-only.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.conftest import MakeUser, World
from yibao.audit.identity_reads import IdentityRead, list_identity_reads, record_identity_read
from yibao.cli.main import app as cli_app
from yibao.db import make_engine, upgrade_database
from yibao.identity import answer_scope, make_identity_number, mask_identity_number
from yibao.registry.access import identity_number_for
from yibao.registry.models import Person, Region

API = "/api/v1"


def _reads(session: Session, person_id: int) -> list[IdentityRead]:
    return list_identity_reads(session, person_id=person_id)


def test_full_numbers_are_recorded_and_masked_ones_are_not(
    session: Session, world: World, make_user: MakeUser
) -> None:
    person = world.retiree
    center = make_user("agency", agency_id=world.center.id).user
    street = make_user("street_office", agency_id=world.street_office.id).user
    hospital = make_user("hospital", institution_id=world.hospital.id).user
    itself = make_user("insured", person_id=person.id).user
    admin = make_user("admin").user

    for reader in (street, hospital):
        shown, full = identity_number_for(session, reader, person, why="test: masked")
        assert (shown, full) == (mask_identity_number(person.identity_number), False)
    session.flush()
    assert _reads(session, person.id) == []

    with answer_scope("GET /api/v1/persons/1") as answer:
        for reader in (center, itself, admin):
            shown, full = identity_number_for(session, reader, person)
            assert (shown, full) == (person.identity_number, True)
        assert answer.shown == {person.identity_number}
    identity_number_for(session, "cli", person, why="yibao persons show")
    session.flush()
    reads = _reads(session, person.id)
    assert [r.user_id for r in reversed(reads)] == [center.id, itself.id, admin.id, None]
    assert [r.why for r in reversed(reads)] == [
        *["GET /api/v1/persons/1"] * 3,
        "yibao persons show",
    ]
    assert reads[0].actor == "cli" and reads[1].actor_role == "admin"
    assert all(r.person_id == person.id and r.at is not None for r in reads)


def test_the_table_is_insert_only(session: Session, world: World) -> None:
    record_identity_read(session, actor="cli", person_id=world.retiree.id, why="test")
    session.flush()
    for statement in (
        update(IdentityRead).values(why="rewritten"),
        delete(IdentityRead),
    ):
        nested = session.begin_nested()
        with pytest.raises(DBAPIError, match="insert-only"):
            session.execute(statement)
        nested.rollback()
    if session.get_bind().dialect.name == "postgresql":
        nested = session.begin_nested()
        with pytest.raises(DBAPIError, match="insert-only"):
            session.execute(text("TRUNCATE identity_reads"))
        nested.rollback()
    assert session.scalar(select(func.count()).select_from(IdentityRead)) == 1


def test_the_api_records_its_reads_and_shows_them_to_admins(
    client: TestClient, session: Session, world: World, make_user: MakeUser
) -> None:
    person = world.retiree
    center = make_user("agency", agency_id=world.center.id)
    street = make_user("street_office", agency_id=world.street_office.id)
    admin = make_user("admin")

    answer = client.get(f"{API}/persons/{person.id}", headers=street.headers).json()
    assert answer["identity_number"] == mask_identity_number(person.identity_number)
    assert client.get(f"{API}/audit/identity-reads", headers=admin.headers).json() == []

    answer = client.get(f"{API}/persons/{person.id}", headers=center.headers).json()
    assert answer["identity_number"] == person.identity_number
    fhir = client.get(f"/fhir/R4/Patient/{person.id}", headers=center.headers)
    assert fhir.status_code == 200 and person.identity_number in fhir.text

    reads = client.get(
        f"{API}/audit/identity-reads", params={"person_id": person.id}, headers=admin.headers
    ).json()
    assert [(r["user_id"], r["person_id"], r["why"]) for r in reads] == [
        (center.user.id, person.id, f"GET /fhir/R4/Patient/{person.id}"),
        (center.user.id, person.id, f"GET {API}/persons/{person.id}"),
    ]
    assert all(r["at"] for r in reads)
    by_user = client.get(
        f"{API}/audit/identity-reads", params={"user_id": street.user.id}, headers=admin.headers
    )
    assert by_user.json() == []
    for who in (center, street):
        refused = client.get(f"{API}/audit/identity-reads", headers=who.headers)
        assert refused.status_code == 403


def test_the_operator_lists_the_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``yibao audit identity-reads`` on a database of its own (SQLite, whatever the run's:
    the table is insert-only, so nothing written here could be cleaned up)."""
    url = f"sqlite:///{tmp_path / 'reads.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    with Session(engine) as session:
        session.add(Region(code="110000", name="北京市", province_code="110000"))
        session.flush()
        person = Person(
            identity_number=make_identity_number("110105", date(1956, 4, 12), 31),
            name="王读",
            sex="M",
            birth_date=date(1956, 4, 12),
            scheme="employee",
            person_type="retired",
            insured_region="110000",
            assistance_eligible=False,
        )
        session.add(person)
        session.flush()
        record_identity_read(session, actor="cli", person_id=person.id, why="GET /api/v1/persons/1")
        session.commit()
    engine.dispose()
    monkeypatch.setenv("YIBAO_DATABASE_URL", url)
    result = CliRunner().invoke(cli_app, ["audit", "identity-reads", "--person", "1"])
    assert result.exit_code == 0, result.output
    assert "cli  person 1  GET /api/v1/persons/1" in result.output
    result = CliRunner().invoke(cli_app, ["audit", "identity-reads", "--person", "2"])
    assert result.exit_code == 0 and "no reads" in result.output
