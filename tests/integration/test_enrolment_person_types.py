"""Issue journey: enrolment accepts only person types the region's policies know.

`person_type: "retiree"` (the example the API documentation once gave) was accepted at
enrolment, and every later settlement of that person was rejected ("no policy ... person
type retiree"). The policies of the insured region say which types exist.
"""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import MakeUser, World
from tests.integration.test_settle_kit import load_rules
from yibao.errors import ValidationFailed
from yibao.identity import make_identity_number
from yibao.registry import service as registry


def _body(world: World, person_type: str, sequence: int) -> dict[str, object]:
    return {
        "identity_number": make_identity_number("110105", date(1956, 1, 2), sequence),
        "name": "钱类型",
        "scheme": "employee",
        "person_type": person_type,
        "insured_region": "110000",
        "unit_id": world.unit.id,
    }


def test_enrolment_refuses_a_person_type_no_policy_knows(
    client: TestClient, session: Session, world: World, make_user: MakeUser
) -> None:
    load_rules(session)
    session.commit()
    center = make_user("agency")
    refused = client.post(
        "/api/v1/persons", json=_body(world, "retiree", 901), headers=center.headers
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "person.type_unknown"
    assert "in_service" in refused.json()["detail"] and "retired" in refused.json()["detail"]
    enrolled = client.post(
        "/api/v1/persons", json=_body(world, "retired", 902), headers=center.headers
    )
    assert enrolled.status_code == 201, enrolled.text
    # nor can a later change make the person unsettleable
    changed = client.patch(
        f"/api/v1/persons/{enrolled.json()['id']}",
        json={"person_type": "pensioner"},
        headers=center.headers,
    )
    assert changed.status_code == 422 and changed.json()["code"] == "person.type_unknown"


def test_the_documented_example_enrols(
    client: TestClient, session: Session, world: World, make_user: MakeUser
) -> None:
    """The OpenAPI example of ``person_type`` is one the demo-like policy knows."""
    load_rules(session)
    session.commit()
    schema = client.get("/openapi.json").json()["components"]["schemas"]["PersonCreate"]
    [example] = schema["properties"]["person_type"]["examples"]
    body = _body(world, example, 905)
    created = client.post("/api/v1/persons", json=body, headers=make_user("agency").headers)
    assert created.status_code == 201, created.text


def test_a_region_without_policies_yet_enrols_as_before(session: Session, world: World) -> None:
    person = registry.register_person(
        session,
        identity_number=make_identity_number("130602", date(1970, 1, 1), 903),
        name="赵先登记",
        scheme="resident",
        person_type="adult",
        insured_region="130600",
        actor="test",
    )
    assert person.person_type == "adult"
    load_rules(session)  # Beijing now has a policy, for employees only
    with pytest.raises(ValidationFailed) as refused:
        registry.register_person(
            session,
            identity_number=make_identity_number("110105", date(1970, 1, 1), 904),
            name="钱未知",
            scheme="resident",
            person_type="adult",
            insured_region="110000",
            actor="test",
        )
    assert refused.value.code == "person.type_unknown"
