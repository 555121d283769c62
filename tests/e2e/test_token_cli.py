"""``yibao users token create|list|rotate|revoke`` on a database of their own: a token is
printed once, stored hashed, and works until it expires, is rotated or is revoked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.e2e.test_platform_cli import own_db  # noqa: F401  (the fixture)
from yibao.audit.models import AuditEntry
from yibao.auth.models import User
from yibao.auth.tokens import authenticate
from yibao.cli.main import app
from yibao.db import make_engine, session_scope
from yibao.errors import Unauthorized

runner = CliRunner()


@pytest.fixture
def platform(own_db: str) -> Iterator[str]:  # noqa: F811
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    yield own_db


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def check(url: str, token: str) -> str:
    """'ok', or the code of the refusal."""
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            try:
                authenticate(session, token=token)
            except Unauthorized as refused:
                return refused.code
            return "ok"
    finally:
        engine.dispose()


def test_tokens_are_issued_rotated_revoked_and_listed(platform: str) -> None:
    made = runner.invoke(
        app, ["users", "create", "--role", "admin", "--name", "root", "--expires-in", "2h"]
    )
    assert made.exit_code == 0, made.output
    first = last_line(made.stdout)
    assert first.startswith("yb_") and check(platform, first) == "ok"

    engine = make_engine(platform)
    try:
        with session_scope(engine) as session:
            user = session.scalars(select(User)).one()
            user_id, first_id = user.id, user.token_id
            assert first.split("_", 2)[2] not in user.token_hash  # stored hashed
            assert user.token_expires_at is not None
            expires = user.token_expires_at.replace(tzinfo=UTC)
            assert (
                timedelta(hours=1, minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=2)
            )
    finally:
        engine.dispose()

    listed = runner.invoke(app, ["users", "token", "list"])
    assert listed.exit_code == 0, listed.output
    row = [line for line in listed.stdout.splitlines() if line.startswith(f"{user_id}\t")]
    assert len(row) == 1 and f"\t{first_id}\tvalid\t" in row[0]
    assert first.split("_", 2)[2] not in listed.output

    refused = runner.invoke(app, ["users", "token", "create", str(user_id)])
    assert refused.exit_code == 2 and "token.still_valid" in refused.output

    rotated = runner.invoke(app, ["users", "token", "rotate", str(user_id), "--expires-in", "30d"])
    assert rotated.exit_code == 0, rotated.output
    second = last_line(rotated.stdout)
    assert second.startswith("yb_") and second != first
    assert f"replaces {first_id}" in rotated.output
    assert rotated.stdout.count("yb_") == 1  # printed once, alone on standard output
    assert check(platform, first) == "auth.invalid_token"
    assert check(platform, second) == "ok"

    revoked = runner.invoke(app, ["users", "token", "revoke", str(user_id)])
    assert revoked.exit_code == 0, revoked.output
    assert check(platform, second) == "auth.token_revoked"
    listed = runner.invoke(app, ["users", "token", "list"])
    assert "\trevoked\t" in listed.stdout

    fresh = runner.invoke(app, ["users", "token", "create", str(user_id), "--expires-in", "90d"])
    assert fresh.exit_code == 0, fresh.output
    third = last_line(fresh.stdout)
    assert check(platform, third) == "ok"

    engine = make_engine(platform)
    try:
        with session_scope(engine) as session:
            actions = session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.entity == "user", AuditEntry.entity_id == str(user_id))
                .order_by(AuditEntry.id)
            ).all()
            texts = [
                str((e.before, e.after))
                for e in session.scalars(select(AuditEntry).where(AuditEntry.entity == "user"))
            ]
    finally:
        engine.dispose()
    assert actions == [
        "user.created",
        "user.token_rotated",
        "user.token_revoked",
        "user.token_issued",
    ]
    for token in (first, second, third):
        assert all(token.split("_", 2)[2] not in text for text in texts)


def test_token_commands_refuse_with_one_line(platform: str) -> None:
    made = runner.invoke(app, ["users", "create", "--role", "admin"])
    assert made.exit_code == 0, made.output
    for args, code in (
        (["users", "token", "rotate", "1", "--expires-in", "soon"], "token.lifetime_invalid"),
        (["users", "token", "create", "1", "--expires-in", "0d"], "token.lifetime_invalid"),
        (["users", "create", "--role", "admin", "--expires-in", "1y"], "token.lifetime_invalid"),
        (["users", "token", "revoke", "999"], "user.not_found"),
        (["users", "token", "rotate", "999"], "user.not_found"),
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert f"error: {code}:" in result.output, (args, result.output)
        assert "Traceback" not in result.output
    listed = runner.invoke(app, ["users", "token", "list"])
    assert listed.stdout.count("\tvalid\t") == 1  # the refused create made no user
