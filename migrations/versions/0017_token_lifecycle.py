"""API tokens with an expiry, revocation and rotation; idle expiry of web sessions.

- ``users.token_issued_at``: when the present token was issued. Tokens issued before this
  revision count from the upgrade, so none expires at once.
- ``users.token_expires_at``: its expiry; None means the default lifetime from issue
  (``YIBAO_LIMIT_TOKEN_LIFETIME_DAYS``, 90 days).
- ``users.token_revoked_at``: set by ``yibao users token revoke``; the token answers 401.
- ``users.token_last_used_at``: the last request it authenticated (to the hour).
- ``users.token_rotated_from``: the public id of the token it replaced.
- ``web_sessions.last_seen_at``: a signed-in browser's last request, for the idle expiry.

Revision ID: 0017_token_lifecycle
Revises: 0016_page_indexes
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_token_lifecycle"
down_revision: str | None = "0016_page_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TOKEN_COLUMNS = (
    "token_issued_at",
    "token_expires_at",
    "token_revoked_at",
    "token_last_used_at",
)


def upgrade() -> None:
    # Nullable columns: a plain ADD COLUMN on both databases, as 0015_password_change does;
    # the tables are not rebuilt and their rows keep their ids and references.
    for name in _TOKEN_COLUMNS:
        op.add_column("users", sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.add_column("users", sa.Column("token_rotated_from", sa.String(length=32), nullable=True))
    op.execute(sa.text("UPDATE users SET token_issued_at = CURRENT_TIMESTAMP"))
    op.add_column(
        "web_sessions", sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+), as 0015_password_change does.
    op.drop_column("web_sessions", "last_seen_at")
    op.drop_column("users", "token_rotated_from")
    for name in reversed(_TOKEN_COLUMNS):
        op.drop_column("users", name)
