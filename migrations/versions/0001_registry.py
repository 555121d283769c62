"""Registry: regions, agencies, institutions, units, persons, accounts, family links,
users, the audit log, policy and catalog versions.

Revision ID: 0001_registry
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_registry"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=20), nullable=True),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("entity", sa.String(length=60), nullable=False),
        sa.Column("entity_id", sa.String(length=60), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_action"), "audit_log", ["action"], unique=False)
    op.create_index(
        op.f("ix_audit_log_actor_user_id"), "audit_log", ["actor_user_id"], unique=False
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)

    op.create_table(
        "catalog_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=6), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=400), nullable=False),
        sa.Column("csv", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "loaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_versions")),
        sa.UniqueConstraint("region", "effective_from", name="uq_catalog_versions_day"),
    )
    op.create_index(
        op.f("ix_catalog_versions_region"), "catalog_versions", ["region"], unique=False
    )

    op.create_table(
        "policy_versions",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("region", sa.String(length=6), nullable=False),
        sa.Column("scheme", sa.String(length=20), nullable=False),
        sa.Column("person_types", sa.String(length=400), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=400), nullable=False),
        sa.Column("yaml", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "loaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_versions")),
    )
    op.create_index(op.f("ix_policy_versions_region"), "policy_versions", ["region"], unique=False)

    op.create_table(
        "regions",
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("province_code", sa.String(length=6), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_regions")),
    )
    op.create_index(op.f("ix_regions_province_code"), "regions", ["province_code"], unique=False)

    op.create_table(
        "agencies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.CheckConstraint(
            "kind IN ('insurance_center', 'street_office', 'treatment_agency')",
            name=op.f("ck_agencies_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_agencies_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies")),
    )
    op.create_index(op.f("ix_agencies_region_code"), "agencies", ["region_code"], unique=False)

    op.create_table(
        "catalog_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("item_class", sa.String(length=1), nullable=False),
        sa.Column("self_pay_ratio", sa.String(length=20), nullable=False),
        sa.Column("price_ceiling_fen", sa.BigInteger(), nullable=True),
        sa.Column("settings", sa.String(length=40), nullable=False),
        sa.Column("min_level", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["catalog_versions.id"],
            name=op.f("fk_catalog_items_version_id_catalog_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_items")),
        sa.UniqueConstraint("version_id", "code", name="uq_catalog_items_code"),
    )
    op.create_index(
        op.f("ix_catalog_items_version_id"), "catalog_items", ["version_id"], unique=False
    )

    op.create_table(
        "institutions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("specialty", sa.String(length=20), nullable=False),
        sa.Column("designated", sa.Boolean(), nullable=False),
        sa.Column("networked", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "(kind = 'pharmacy' AND level IS NULL)"
            " OR (kind = 'hospital' AND level BETWEEN 1 AND 3)",
            name=op.f("ck_institutions_level"),
        ),
        sa.CheckConstraint("kind IN ('hospital', 'pharmacy')", name=op.f("ck_institutions_kind")),
        sa.CheckConstraint(
            "specialty IN ('general', 'specialised')", name=op.f("ck_institutions_specialty")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_institutions_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institutions")),
        sa.UniqueConstraint("code", name=op.f("uq_institutions_code")),
    )
    op.create_index(
        op.f("ix_institutions_region_code"), "institutions", ["region_code"], unique=False
    )

    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_units_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
    )
    op.create_index(op.f("ix_units_region_code"), "units", ["region_code"], unique=False)

    op.create_table(
        "persons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identity_number", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("scheme", sa.String(length=20), nullable=False),
        sa.Column("person_type", sa.String(length=40), nullable=False),
        sa.Column("insured_region", sa.String(length=6), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("assistance_eligible", sa.Boolean(), nullable=False),
        sa.Column("card_number", sa.String(length=40), nullable=True),
        sa.CheckConstraint("scheme IN ('employee', 'resident')", name=op.f("ck_persons_scheme")),
        sa.CheckConstraint("sex IN ('M', 'F')", name=op.f("ck_persons_sex")),
        sa.ForeignKeyConstraint(
            ["insured_region"], ["regions.code"], name=op.f("fk_persons_insured_region_regions")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_persons_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
        sa.UniqueConstraint("card_number", name=op.f("uq_persons_card_number")),
        sa.UniqueConstraint("identity_number", name=op.f("uq_persons_identity_number")),
    )
    op.create_index(op.f("ix_persons_insured_region"), "persons", ["insured_region"], unique=False)
    op.create_index(op.f("ix_persons_unit_id"), "persons", ["unit_id"], unique=False)

    op.create_table(
        "accounts",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("balance_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_accounts_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_accounts")),
    )
    op.create_table(
        "family_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("relative_id", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=10), nullable=False),
        sa.CheckConstraint(
            "relation IN ('spouse', 'parent', 'child')", name=op.f("ck_family_links_relation")
        ),
        sa.CheckConstraint("person_id <> relative_id", name=op.f("ck_family_links_not_self")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_family_links_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["relative_id"], ["persons.id"], name=op.f("fk_family_links_relative_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_links")),
        sa.UniqueConstraint("person_id", "relative_id", name="uq_family_links_pair"),
    )
    op.create_index(op.f("ix_family_links_person_id"), "family_links", ["person_id"], unique=False)
    op.create_index(
        op.f("ix_family_links_relative_id"), "family_links", ["relative_id"], unique=False
    )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("token_id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=200), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("institution_id", sa.Integer(), nullable=True),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "role IN ('insured', 'unit', 'street_office', 'agency', 'hospital', 'admin')",
            name=op.f("ck_users_role"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_users_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_users_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_users_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_users_region_code_regions")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_users_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("token_id", name=op.f("uq_users_token_id")),
    )
    op.create_table(
        "account_movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("balance_after_fen", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("ref", sa.String(length=200), nullable=True),
        sa.Column("beneficiary_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"],
            ["persons.id"],
            name=op.f("fk_account_movements_beneficiary_id_persons"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["accounts.person_id"],
            name=op.f("fk_account_movements_person_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_movements")),
    )
    op.create_index(
        op.f("ix_account_movements_person_id"), "account_movements", ["person_id"], unique=False
    )
    _audit_log_append_only()


def _audit_log_append_only() -> None:
    """The audit log is append-only: the database itself refuses updates and deletes."""
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit_log is append-only';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_table("account_movements")
    op.drop_table("users")
    op.drop_table("family_links")
    op.drop_table("accounts")
    op.drop_table("persons")
    op.drop_table("units")
    op.drop_table("institutions")
    op.drop_table("catalog_items")
    op.drop_table("agencies")
    op.drop_table("regions")
    op.drop_table("policy_versions")
    op.drop_table("catalog_versions")
    op.drop_table("audit_log")
