"""Policies and catalogs, versioned with effective dates; the text is kept as loaded."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db import Base


class PolicyVersion(Base):
    """One policy file (YAML) of an insured region, scheme and person types."""

    __tablename__ = "policy_versions"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    region: Mapped[str] = mapped_column(String(6), index=True)
    scheme: Mapped[str] = mapped_column(String(20))
    # Comma-separated, sorted.
    person_types: Mapped[str] = mapped_column(String(400))
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(400))
    yaml: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CatalogVersion(Base):
    """A treatment region's catalog (目录) in force from ``effective_from`` to the next one."""

    __tablename__ = "catalog_versions"
    __table_args__ = (UniqueConstraint("region", "effective_from", name="uq_catalog_versions_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region: Mapped[str] = mapped_column(String(6), index=True)
    effective_from: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(400))
    csv: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CatalogItemRow(Base):
    """One catalog row, kept queryable (the engine gets the parsed version)."""

    __tablename__ = "catalog_items"
    __table_args__ = (UniqueConstraint("version_id", "code", name="uq_catalog_items_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("catalog_versions.id"), index=True)
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    item_class: Mapped[str] = mapped_column(String(1))
    self_pay_ratio: Mapped[str] = mapped_column(String(20))
    price_ceiling_fen: Mapped[int | None] = mapped_column(BigInteger)
    settings: Mapped[str] = mapped_column(String(40))
    min_level: Mapped[int | None] = mapped_column(Integer)
