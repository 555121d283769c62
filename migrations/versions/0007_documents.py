"""Documents: one table and one vocabulary of kinds for filings and reimbursement claims.

``filing_documents`` and ``reimbursement_documents`` become ``documents`` (a row belongs
to a filing or to a claim). Stored kinds move to the one vocabulary: ``id_copy`` →
``identity_copy``, ``receipts`` → ``receipt``, ``prescriptions`` → ``prescription``, in
the rows and in the kind lists filings and claims keep (``missing_documents``,
``required_documents``). The audit log is history and keeps the names of its day.

Filing documents keep their ids (``filings.returned_after_document_id`` compares them).
Claim documents are numbered after every old id (old id + the highest old id of either
table), so an old claim document link answers 404 instead of another document.

Revision ID: 0007_documents
Revises: 0006_approvals
"""

import logging
from collections.abc import Iterable, Mapping, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_documents"
# 0006_approvals (four-eyes approvals) also follows 0005; this one follows it, so the
# history keeps one head.
down_revision: str | None = "0006_approvals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The vocabulary as of this revision (yibao.documents.kinds may grow later, with its own
# migration of the check below).
KINDS = (
    "identity_copy",
    "residence_proof",
    "commitment_letter",
    "retirement_certificate",
    "employment_proof",
    "referral_certificate",
    "emergency_record",
    "application_form",
    "receipt",
    "expense_list",
    "detailed_list",
    "prescription",
    "diagnosis_certificate",
    "hospital_grade_certificate",
    "inpatient_medical_record",
    "other",
)
RENAMED = {"id_copy": "identity_copy", "receipts": "receipt", "prescriptions": "prescription"}
# Before this revision filings said id_copy and claims said identity_copy.
FILING_FORMER = {"identity_copy": "id_copy"}
CLAIM_FORMER = {"receipt": "receipts", "prescription": "prescriptions"}
BATCH = 1000

_log = logging.getLogger("alembic.runtime.migration")

_COMMON = ("doc_type", "filename", "content_type", "size_bytes", "sha256", "storage_path")


def _table(name: str, *columns: str) -> sa.TableClause:
    types = {
        "id": sa.Integer(),
        "filing_id": sa.Integer(),
        "claim_id": sa.Integer(),
        "size_bytes": sa.Integer(),
        "superseded": sa.Boolean(),
        "uploaded_by": sa.Integer(),
        "uploaded_by_user_id": sa.Integer(),
        "uploaded_at": sa.DateTime(timezone=True),
    }
    return sa.table(name, *(sa.column(c, types.get(c, sa.String())) for c in columns))


def _documents() -> sa.TableClause:
    return _table(
        "documents",
        "id",
        "filing_id",
        "claim_id",
        *_COMMON,
        "superseded",
        "uploaded_by_user_id",
        "uploaded_at",
    )


def _filing_documents() -> sa.TableClause:
    return _table(
        "filing_documents", "id", "filing_id", *_COMMON, "uploaded_by_user_id", "uploaded_at"
    )


def _claim_documents() -> sa.TableClause:
    return _table(
        "reimbursement_documents",
        "id",
        "claim_id",
        *_COMMON,
        "superseded",
        "uploaded_by",
        "uploaded_at",
    )


def _rename_kinds(bind: sa.Connection, table: sa.TableClause, mapping: Mapping[str, str]) -> None:
    for old, new in mapping.items():
        bind.execute(table.update().where(table.c.doc_type == old).values(doc_type=new))


def _rename_in_lists(
    bind: sa.Connection, name: str, columns: Iterable[str], mapping: Mapping[str, str]
) -> None:
    """Rename kinds inside JSON lists, a batch of rows at a time (keyset by id)."""
    columns = list(columns)
    table = sa.table(
        name, sa.column("id", sa.Integer()), *(sa.column(c, sa.JSON()) for c in columns)
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(table).where(table.c.id > last).order_by(table.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            changes = {}
            for column in columns:
                value = getattr(row, column)
                if isinstance(value, list):
                    renamed = [mapping.get(v, v) if isinstance(v, str) else v for v in value]
                    if renamed != value:
                        changes[column] = renamed
            if changes:
                bind.execute(table.update().where(table.c.id == row.id).values(**changes))
        last = rows[-1].id


def _reset_sequence(bind: sa.Connection, table: str) -> None:
    """PostgreSQL: the id sequence continues after the ids copied in explicitly."""
    if bind.dialect.name == "postgresql":
        bind.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            )
        )


def _max_id(bind: sa.Connection, table: sa.TableClause) -> int:
    return int(bind.scalar(sa.select(sa.func.max(table.c.id))) or 0)


def upgrade() -> None:
    bind = op.get_bind()
    filing_docs, claim_docs, documents = _filing_documents(), _claim_documents(), _documents()

    _rename_kinds(bind, filing_docs, RENAMED)
    _rename_kinds(bind, claim_docs, RENAMED)
    strange = sorted(
        {
            kind
            for table in (filing_docs, claim_docs)
            for kind in bind.scalars(
                sa.select(table.c.doc_type).where(table.c.doc_type.not_in(KINDS)).distinct()
            )
        }
    )
    if strange:
        raise RuntimeError(
            f"documents of kinds outside the vocabulary: {', '.join(strange)}; add them to"
            " yibao.documents.kinds and to KINDS in this migration, or rename the rows,"
            " then upgrade again (nothing was changed)"
        )

    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filing_id", sa.Integer(), nullable=True),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.Column("doc_type", sa.String(length=40), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=80), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_path", sa.String(length=300), nullable=False),
        sa.Column("superseded", sa.Boolean(), nullable=False),
        sa.Column("uploaded_by_user_id", sa.Integer(), nullable=True),
        sa.Column(
            "uploaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "(filing_id IS NOT NULL AND claim_id IS NULL)"
            " OR (filing_id IS NULL AND claim_id IS NOT NULL)",
            name=op.f("ck_documents_one_owner"),
        ),
        sa.CheckConstraint(
            "doc_type IN (" + ", ".join(f"'{kind}'" for kind in KINDS) + ")",
            name=op.f("ck_documents_doc_type"),
        ),
        sa.ForeignKeyConstraint(
            ["filing_id"], ["filings.id"], name=op.f("fk_documents_filing_id_filings")
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["reimbursement_claims.id"],
            name=op.f("fk_documents_claim_id_reimbursement_claims"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_user_id"],
            ["users.id"],
            name=op.f("fk_documents_uploaded_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    op.create_index(op.f("ix_documents_filing_id"), "documents", ["filing_id"], unique=False)
    op.create_index(op.f("ix_documents_claim_id"), "documents", ["claim_id"], unique=False)

    no_owner = sa.cast(sa.null(), sa.Integer())
    targets = [
        "id",
        "filing_id",
        "claim_id",
        *_COMMON,
        "superseded",
        "uploaded_by_user_id",
        "uploaded_at",
    ]
    bind.execute(
        documents.insert().from_select(
            targets,
            sa.select(
                filing_docs.c.id,
                filing_docs.c.filing_id,
                no_owner,
                *(filing_docs.c[c] for c in _COMMON),
                sa.false(),
                filing_docs.c.uploaded_by_user_id,
                filing_docs.c.uploaded_at,
            ),
        )
    )
    highest_filing = _max_id(bind, filing_docs)
    offset = max(highest_filing, _max_id(bind, claim_docs)) if highest_filing else 0
    bind.execute(
        documents.insert().from_select(
            targets,
            sa.select(
                claim_docs.c.id + offset,
                no_owner,
                claim_docs.c.claim_id,
                *(claim_docs.c[c] for c in _COMMON),
                claim_docs.c.superseded,
                claim_docs.c.uploaded_by,
                claim_docs.c.uploaded_at,
            ),
        )
    )
    if offset:
        _log.info("reimbursement documents renumbered: new id = old id + %d", offset)
    _reset_sequence(bind, "documents")

    _rename_in_lists(bind, "filings", ["missing_documents"], RENAMED)
    _rename_in_lists(
        bind, "reimbursement_claims", ["required_documents", "missing_documents"], RENAMED
    )

    op.drop_index(op.f("ix_filing_documents_filing_id"), table_name="filing_documents")
    op.drop_table("filing_documents")
    op.drop_index(op.f("ix_reimbursement_documents_claim_id"), table_name="reimbursement_documents")
    op.drop_table("reimbursement_documents")


def downgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "filing_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filing_id", sa.Integer(), nullable=False),
        sa.Column("doc_type", sa.String(length=40), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=80), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_path", sa.String(length=300), nullable=False),
        sa.Column("uploaded_by_user_id", sa.Integer(), nullable=True),
        sa.Column(
            "uploaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["filing_id"], ["filings.id"], name=op.f("fk_filing_documents_filing_id_filings")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_user_id"],
            ["users.id"],
            name=op.f("fk_filing_documents_uploaded_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filing_documents")),
    )
    op.create_index(
        op.f("ix_filing_documents_filing_id"), "filing_documents", ["filing_id"], unique=False
    )
    op.create_table(
        "reimbursement_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("doc_type", sa.String(length=40), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=80), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_path", sa.String(length=300), nullable=False),
        sa.Column("superseded", sa.Boolean(), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column(
            "uploaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["reimbursement_claims.id"],
            name=op.f("fk_reimbursement_documents_claim_id_reimbursement_claims"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["users.id"], name=op.f("fk_reimbursement_documents_uploaded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reimbursement_documents")),
    )
    op.create_index(
        op.f("ix_reimbursement_documents_claim_id"),
        "reimbursement_documents",
        ["claim_id"],
        unique=False,
    )

    documents, filing_docs, claim_docs = _documents(), _filing_documents(), _claim_documents()
    bind.execute(
        filing_docs.insert().from_select(
            ["id", "filing_id", *_COMMON, "uploaded_by_user_id", "uploaded_at"],
            sa.select(
                documents.c.id,
                documents.c.filing_id,
                *(documents.c[c] for c in _COMMON),
                documents.c.uploaded_by_user_id,
                documents.c.uploaded_at,
            ).where(documents.c.filing_id.is_not(None)),
        )
    )
    bind.execute(
        claim_docs.insert().from_select(
            ["id", "claim_id", *_COMMON, "superseded", "uploaded_by", "uploaded_at"],
            sa.select(
                documents.c.id,
                documents.c.claim_id,
                *(documents.c[c] for c in _COMMON),
                documents.c.superseded,
                documents.c.uploaded_by_user_id,
                documents.c.uploaded_at,
            ).where(documents.c.claim_id.is_not(None)),
        )
    )
    _rename_kinds(bind, filing_docs, FILING_FORMER)
    _rename_kinds(bind, claim_docs, CLAIM_FORMER)
    _reset_sequence(bind, "filing_documents")
    _reset_sequence(bind, "reimbursement_documents")
    _rename_in_lists(bind, "filings", ["missing_documents"], FILING_FORMER)
    _rename_in_lists(
        bind, "reimbursement_claims", ["required_documents", "missing_documents"], CLAIM_FORMER
    )

    op.drop_index(op.f("ix_documents_claim_id"), table_name="documents")
    op.drop_index(op.f("ix_documents_filing_id"), table_name="documents")
    op.drop_table("documents")
