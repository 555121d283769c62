"""Policies and catalogs versioned in the database, handed to the engine as its types."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from yibao.data import demo_path
from yibao.engine.models import Catalog, Policy
from yibao.errors import Conflict, ValidationFailed
from yibao.policies import service

POLICY = demo_path("policies", "110000-employee-retired-2026.yaml")
CATALOG = demo_path("catalogs", "460200.csv")


def test_policy_load_is_versioned_and_idempotent(session: Session) -> None:
    [first] = service.load_policy_paths(session, paths=[POLICY], actor="test")
    assert (first.key, first.outcome) == ("bj-employee-retired-2026", "created")
    [again] = service.load_policy_paths(session, paths=[POLICY], actor="test")
    assert again.outcome == "unchanged"
    changed = POLICY.read_text(encoding="utf-8").replace("annual_cap: 500000", "annual_cap: 1")
    with pytest.raises(Conflict):
        service.load_policy_text(session, text=changed, source="edited.yaml", actor="test")


def test_policies_for_respects_effective_dates(session: Session) -> None:
    service.load_policy_paths(session, paths=[demo_path("policies")], actor="test")
    in_2026 = service.policies_for(session, region="110000", on=date(2026, 7, 1))
    assert all(isinstance(p, Policy) for p in in_2026)
    ids_2026 = {p.id for p in in_2026}
    assert "bj-employee-retired-2026" in ids_2026
    ids_2027 = {p.id for p in service.policies_for(session, region="110000", on=date(2027, 3, 1))}
    assert ids_2027 and not (ids_2027 & ids_2026)
    assert service.policies_for(session, region="110000", on=date(2020, 1, 1)) == []
    retired = next(p for p in in_2026 if p.id == "bj-employee-retired-2026")
    assert retired.inpatient is not None and retired.inpatient.annual_cap == Decimal("500000")
    # parsed once per version: the same object comes back
    again = service.policies_for(session, region="110000", on=date(2026, 7, 1))
    assert next(p for p in again if p.id == retired.id) is retired


def test_catalog_versions_by_effective_date(session: Session) -> None:
    text = CATALOG.read_text(encoding="utf-8")
    [loaded] = service.load_catalog_text(
        session, text=text, source=str(CATALOG), effective_from=date(2026, 1, 1), actor="test"
    )
    assert loaded.key == "460200@2026-01-01"
    # A later version where D0001 costs more to the person: class B with 20% self-pay.
    lines = text.splitlines()
    header, rows = lines[0], lines[1:]
    changed_rows = [
        "460200,D0001,阿莫西林胶囊,drug,B,0.20,,both," if r.startswith("460200,D0001,") else r
        for r in rows
    ]
    service.load_catalog_text(
        session,
        text="\n".join([header, *changed_rows]) + "\n",
        source="v2.csv",
        effective_from=date(2026, 7, 1),
        actor="test",
    )
    june = service.catalog_for(session, region="460200", on=date(2026, 6, 30))
    july = service.catalog_for(session, region="460200", on=date(2026, 7, 1))
    assert isinstance(june, Catalog)
    d_june, d_july = june.get("460200", "D0001"), july.get("460200", "D0001")
    assert d_june is not None and d_june.item_class == "A"
    assert d_july is not None and (d_july.item_class, d_july.self_pay_ratio) == (
        "B",
        Decimal("0.20"),
    )
    assert len(june.items) == len(rows)
    with pytest.raises(ValidationFailed) as err:
        service.catalog_for(session, region="460200", on=date(2025, 12, 31))
    assert err.value.code == "catalog.not_loaded"
    with pytest.raises(Conflict):
        service.load_catalog_text(
            session,
            text="\n".join([header, *changed_rows]),
            source="x",
            effective_from=date(2026, 1, 1),
            actor="t",
        )
