"""The application's PostgreSQL role: it owns nothing and may not rewrite history.

Migrations run as the owner of the schema. The application connects as another role, given
here exactly what serving needs: the ordinary reads and writes on the concepts' tables,
but only ``INSERT`` and ``SELECT`` on the append-only tables (the audit log, its chain, the
record of identity-number reads) and only ``SELECT`` on ``alembic_version``. Owning nothing,
it can neither ``TRUNCATE``, ``ALTER``, ``DROP`` nor disable a trigger: PostgreSQL reserves
those to a table's owner.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, inspect, text

from yibao.errors import YibaoError

# Tables the application may only add to and read.
APPEND_ONLY_TABLES = ("audit_log", "audit_chain", "identity_reads")
# Tables the application may only read.
READ_ONLY_TABLES = ("alembic_version",)


class RoleRefused(YibaoError):
    code = "database.role_refused"
    title = "Role cannot be the application's"


@dataclass(frozen=True, slots=True)
class RoleGrants:
    """What the role was given, table by table."""

    role: str
    read_write: list[str]
    append_only: list[str]
    read_only: list[str]


def grant_app_role(connection: Connection, role: str) -> RoleGrants:
    """Give ``role`` the application's privileges on the connection's database (run as the
    schema's owner; rerun after each ``yibao db upgrade`` so new tables are covered).

    Refused: on SQLite (no roles), for a role that does not exist, a superuser, the role
    connected now, or a role that owns any object of the schema.
    """
    if connection.dialect.name != "postgresql":
        raise RoleRefused(
            "SQLite has no roles: protect the database file with the file system's "
            "permissions instead (docs/operations.md)"
        )
    found = connection.execute(
        text("SELECT rolsuper FROM pg_roles WHERE rolname = :role"), {"role": role}
    ).first()
    if found is None:
        raise RoleRefused(
            f"role {role!r} does not exist: create it first, e.g. "
            f"CREATE ROLE {role} LOGIN PASSWORD '...'"
        )
    if found.rolsuper:
        raise RoleRefused(f"role {role!r} is a superuser: the application's role must not be")
    if connection.execute(text("SELECT current_user")).scalar_one() == role:
        raise RoleRefused(
            f"role {role!r} is the one connected now, the schema's owner: the application "
            "needs a role of its own"
        )
    owned = (
        connection.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND pg_get_userbyid(c.relowner) = :role "
                "AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
                "ORDER BY c.relname LIMIT 5"
            ),
            {"role": role},
        )
        .scalars()
        .all()
    )
    if owned:
        raise RoleRefused(
            f"role {role!r} owns {', '.join(owned)}: the application's role must own nothing "
            "(ALTER TABLE ... OWNER TO the migrations' role)"
        )
    q = connection.dialect.identifier_preparer.quote
    quoted = q(role)
    tables = sorted(inspect(connection).get_table_names())
    append_only = [t for t in tables if t in APPEND_ONLY_TABLES]
    read_only = [t for t in tables if t in READ_ONLY_TABLES]
    read_write = [t for t in tables if t not in APPEND_ONLY_TABLES + READ_ONLY_TABLES]
    database = q(connection.execute(text("SELECT current_database()")).scalar_one())
    statements = [
        f"GRANT CONNECT ON DATABASE {database} TO {quoted}",
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"REVOKE CREATE ON SCHEMA public FROM {quoted}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
    ]
    statements += [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {q(t)} TO {quoted}" for t in read_write
    ]
    statements += [f"GRANT SELECT, INSERT ON {q(t)} TO {quoted}" for t in append_only]
    statements += [f"GRANT SELECT ON {q(t)} TO {quoted}" for t in read_only]
    for statement in statements:
        connection.execute(text(statement))
    return RoleGrants(
        role=role, read_write=read_write, append_only=append_only, read_only=read_only
    )
