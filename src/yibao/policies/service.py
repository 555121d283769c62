"""Policies and catalogs, versioned in the database, handed to the engine as its types.

A policy version is one YAML file (its ``id`` names the version, with effective dates);
a catalog version is one region's CSV in force from ``effective_from`` until the next
version of that region. The text is stored as loaded; the parsed engine objects are cached
in-process per version and content hash, because settlement runs them on every claim.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from yibao.audit.service import Actor, record
from yibao.engine.models import Catalog, CatalogItem, Policy
from yibao.errors import Conflict, InvalidInput, NotFound, ValidationFailed
from yibao.inputs import parse_catalog_text, parse_policy_text
from yibao.money import to_fen
from yibao.policies import repository as repo
from yibao.policies.models import CatalogItemRow, CatalogVersion, PolicyVersion
from yibao.registry.service import register_person_type_source

_POLICY_CACHE: dict[tuple[str, str], Policy] = {}
_CATALOG_CACHE: dict[tuple[int, str], Catalog] = {}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Loaded:
    """What a load did: ``created`` or ``unchanged`` (same text loaded before)."""

    kind: str
    key: str
    outcome: str


# --- policies --------------------------------------------------------------------------


def load_policy_text(session: Session, *, text: str, source: str, actor: Actor) -> Loaded:
    """Store one policy version; loading the same text twice is a no-op."""
    policy = parse_policy_text(text, source)
    digest = _sha(text)
    existing = session.get(PolicyVersion, policy.id)
    if existing is not None:
        if existing.sha256 == digest:
            return Loaded("policy", policy.id, "unchanged")
        raise Conflict(
            f"policy {policy.id} is already loaded with other content; a changed policy "
            "is a new version with a new id",
            code="policy.id_taken",
        )
    row = PolicyVersion(
        id=policy.id,
        region=policy.region,
        scheme=policy.scheme,
        person_types=",".join(sorted(policy.person_types)),
        effective_from=policy.effective_from,
        effective_to=policy.effective_to,
        source=source[:400],
        yaml=text,
        sha256=digest,
    )
    session.add(row)
    session.flush()
    _POLICY_CACHE[(policy.id, digest)] = policy
    record(
        session,
        actor=actor,
        action="policy.loaded",
        entity="policy",
        entity_id=policy.id,
        before=None,
        after={
            "region": policy.region,
            "scheme": policy.scheme,
            "person_types": sorted(policy.person_types),
            "effective_from": policy.effective_from,
            "effective_to": policy.effective_to,
            "source": source,
            "sha256": digest,
        },
    )
    return Loaded("policy", policy.id, "created")


def policy_files(paths: Iterable[Path]) -> list[Path]:
    """Files as given; folders contribute their ``*.yaml`` / ``*.yml``, sorted."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted([*path.glob("*.yaml"), *path.glob("*.yml")]))
        elif path.exists():
            files.append(path)
        else:
            raise InvalidInput(str(path), "", "no such file or folder", code="input.missing")
    return files


def load_policy_paths(session: Session, *, paths: Iterable[Path], actor: Actor) -> list[Loaded]:
    return [
        load_policy_text(
            session, text=path.read_text(encoding="utf-8"), source=str(path), actor=actor
        )
        for path in policy_files(paths)
    ]


def _parsed_policy(row: PolicyVersion) -> Policy:
    key = (row.id, row.sha256)
    policy = _POLICY_CACHE.get(key)
    if policy is None:
        policy = parse_policy_text(row.yaml, row.source or f"policy {row.id}")
        _POLICY_CACHE[key] = policy
    return policy


def policies_for(session: Session, *, region: str, on: date) -> list[Policy]:
    """Every policy of the insured ``region`` in force ``on`` that day (engine types)."""
    return [_parsed_policy(row) for row in repo.policies_in_force(session, region, on)]


def policy_text(session: Session, *, policy_id: str) -> PolicyVersion | None:
    return session.get(PolicyVersion, policy_id)


# --- catalogs --------------------------------------------------------------------------


def _settings_text(item: CatalogItem) -> str:
    return ",".join(sorted(item.settings))


def load_catalog_text(
    session: Session, *, text: str, source: str, effective_from: date, actor: Actor
) -> list[Loaded]:
    """Store the catalog of each region in the file as a version from ``effective_from``."""
    items = parse_catalog_text(text, source)
    if not items:
        raise InvalidInput(source, "", "the catalog has no rows", code="catalog.empty")
    by_region: dict[str, list[CatalogItem]] = {}
    for item in items:
        by_region.setdefault(item.region, []).append(item)
    digest = _sha(text)
    results: list[Loaded] = []
    for region, region_items in sorted(by_region.items()):
        key = f"{region}@{effective_from.isoformat()}"
        existing = repo.catalog_version(session, region, effective_from)
        if existing is not None:
            if existing.sha256 == digest:
                results.append(Loaded("catalog", key, "unchanged"))
                continue
            raise Conflict(
                f"a catalog of {region} from {effective_from} is already loaded with other "
                "content; load the new one with a later --effective-from",
                code="catalog.version_taken",
            )
        version = CatalogVersion(
            region=region,
            effective_from=effective_from,
            source=source[:400],
            csv=text,
            sha256=digest,
        )
        session.add(version)
        session.flush()
        session.execute(
            insert(CatalogItemRow),
            [
                {
                    "version_id": version.id,
                    "code": item.code,
                    "name": item.name,
                    "kind": item.kind,
                    "item_class": item.item_class,
                    "self_pay_ratio": str(item.self_pay_ratio),
                    "price_ceiling_fen": (
                        to_fen(item.price_ceiling) if item.price_ceiling is not None else None
                    ),
                    "settings": _settings_text(item),
                    "min_level": item.min_level,
                }
                for item in region_items
            ],
        )
        _CATALOG_CACHE[(version.id, digest)] = Catalog.of(region_items)
        record(
            session,
            actor=actor,
            action="catalog.loaded",
            entity="catalog",
            entity_id=key,
            before=None,
            after={
                "region": region,
                "effective_from": effective_from,
                "items": len(region_items),
                "source": source,
                "sha256": digest,
            },
        )
        results.append(Loaded("catalog", key, "created"))
    return results


def _parsed_catalog(version: CatalogVersion) -> Catalog:
    key = (version.id, version.sha256)
    catalog = _CATALOG_CACHE.get(key)
    if catalog is None:
        items = parse_catalog_text(version.csv, version.source or f"catalog {version.id}")
        catalog = Catalog.of([item for item in items if item.region == version.region])
        _CATALOG_CACHE[key] = catalog
    return catalog


def catalog_version_for(session: Session, *, region: str, on: date) -> CatalogVersion:
    version = repo.catalog_in_force(session, region, on)
    if version is None:
        raise ValidationFailed(
            f"no catalog of region {region} is in force on {on}", code="catalog.not_loaded"
        )
    return version


def catalog_for(session: Session, *, region: str, on: date) -> Catalog:
    """The treatment ``region``'s catalog in force ``on`` that day (engine type)."""
    return _parsed_catalog(catalog_version_for(session, region=region, on=on))


@register_person_type_source
def known_person_types(session: Session, region: str, scheme: str) -> frozenset[str] | None:
    """The person types some stored policy of ``region`` and ``scheme`` covers; None when
    the region has no policy at all yet (enrolment comes before the policies are loaded)."""
    rows = repo.list_policies(session, region=region)
    if not rows:
        return None
    types: set[str] = set()
    for row in rows:
        policy = _parsed_policy(row)
        if policy.scheme == scheme:
            types |= policy.person_types
    return frozenset(types)


# --- read-only views for the pages (issue 10) ------------------------------------------


@dataclass(frozen=True, slots=True)
class VersionSpan:
    """A policy or catalog version with the days it applies (``until`` None: open-ended)
    and whether it is in force ``on`` the day asked about."""

    version: PolicyVersion | CatalogVersion
    effective_from: date
    until: date | None
    in_force: bool
    upcoming: bool


def policy_versions(session: Session, *, on: date, region: str | None = None) -> list[VersionSpan]:
    """Every stored policy version (by region, then the day it took effect), with its span."""
    return [
        VersionSpan(
            version=row,
            effective_from=row.effective_from,
            until=row.effective_to,
            in_force=row.effective_from <= on
            and (row.effective_to is None or on <= row.effective_to),
            upcoming=on < row.effective_from,
        )
        for row in repo.list_policies(session, region=region)
    ]


def catalog_versions(session: Session, *, on: date, region: str | None = None) -> list[VersionSpan]:
    """Every stored catalog version; each applies until the day before its region's next."""
    rows = list(repo.list_catalogs(session, region=region))
    spans: list[VersionSpan] = []
    for index, row in enumerate(rows):
        following = rows[index + 1] if index + 1 < len(rows) else None
        until = (
            following.effective_from - timedelta(days=1)
            if following is not None and following.region == row.region
            else None
        )
        spans.append(
            VersionSpan(
                version=row,
                effective_from=row.effective_from,
                until=until,
                in_force=row.effective_from <= on and (until is None or on <= until),
                upcoming=on < row.effective_from,
            )
        )
    return spans


def get_catalog_version(session: Session, *, version_id: int) -> CatalogVersion:
    version = session.get(CatalogVersion, version_id)
    if version is None:
        raise NotFound(f"catalog version {version_id} not found", code="catalog.not_found")
    return version


def search_catalog(
    session: Session, *, version_id: int, text: str | None = None, limit: int = 50, offset: int = 0
) -> list[CatalogItemRow]:
    """Items of one catalog version by code: those whose code starts with ``text`` or whose
    name contains it (all without ``text``)."""
    stmt = select(CatalogItemRow).where(CatalogItemRow.version_id == version_id)
    if text:
        stmt = stmt.where(
            or_(CatalogItemRow.code.startswith(text.upper()), CatalogItemRow.name.contains(text))
        )
    return list(session.scalars(stmt.order_by(CatalogItemRow.code).limit(limit).offset(offset)))


def catalog_item_names(
    session: Session, *, version_id: int, codes: Iterable[str]
) -> dict[str, str]:
    """The names of some codes of one catalog version, in one query (unknown codes: none)."""
    wanted = {code for code in codes if code}
    if not wanted:
        return {}
    rows = session.execute(
        select(CatalogItemRow.code, CatalogItemRow.name).where(
            CatalogItemRow.version_id == version_id, CatalogItemRow.code.in_(wanted)
        )
    )
    return {code: name for code, name in rows}
