"""Self-registration of insured persons (参保人自助注册) with a one-time SMS code.

1. :func:`request_code`: the person types an identity number (GB 11643 check character
   validated). When it belongs to a person with a registered phone and no account yet, a
   six-digit code is sent to that phone (valid ``CODE_VALIDITY``); a person who already has
   an account gets a text saying so instead. Nothing else is sent, and the answer is the
   same for every valid number, so the page never tells whether a number is known.
2. :func:`check_code`: at most ``MAX_TRIES`` tries per code, then a new code is needed. The
   right code gives a ticket (a random token, stored hashed) for the last step.
3. :func:`complete_registration`: with the ticket, a login name and a password, an insured
   user is created for the person (actor: the platform itself) and may be signed in.

Codes are limited per identity number: one per ``RESEND_AFTER``, at most
``MAX_CODES_PER_DAY`` a day. Codes and identity numbers are stored only as keyed digests.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yibao.auth.models import User
from yibao.clock import as_utc
from yibao.identity import validate_identity_number
from yibao.registry import repository as registry_repo
from yibao.registry.models import Person
from yibao.users import service as users
from yibao.users.models import OneTimeCode
from yibao.users.sms import SmsSender

PLATFORM: Final = "platform:self-registration"
CODE_VALIDITY: Final = timedelta(minutes=10)
TICKET_VALIDITY: Final = timedelta(minutes=15)
MAX_TRIES: Final = 5
RESEND_AFTER: Final = timedelta(seconds=60)
MAX_CODES_PER_DAY: Final = 5

CODE_TEXT: Final = (
    "【医保平台】您的注册验证码为 {code}，10 分钟内有效。请勿告诉他人。"
    " Your Yibao registration code is {code} (valid 10 minutes)."
)
HAS_ACCOUNT_TEXT: Final = (
    "【医保平台】您已注册医保平台账号，请直接登录；忘记密码请到医保经办窗口重置。"
    " You already have a Yibao account: sign in, or reset your password at a window."
)


def _digest(secret: str, kind: str, value: str) -> str:
    return hmac.new(secret.encode(), f"{kind}|{value}".encode(), hashlib.sha256).hexdigest()


def _subject(secret: str, identity_number: str) -> str:
    return _digest(secret, "register", validate_identity_number(identity_number))


class Requested(StrEnum):
    SENT = "sent"  # the same answer whether a text went out or not
    TOO_SOON = "too_soon"
    TOO_MANY = "too_many"


def request_code(
    session: Session, *, identity_number: str, secret: str, sms: SmsSender, now: datetime
) -> Requested:
    """Send a one-time code for ``identity_number`` (see the module). Raises
    ``ValidationFailed`` for a number that cannot be one (shape, birth date, check character)."""
    number = validate_identity_number(identity_number)
    subject = _subject(secret, number)
    recent = session.execute(
        select(func.count(OneTimeCode.id), func.max(OneTimeCode.created_at)).where(
            OneTimeCode.subject == subject, OneTimeCode.created_at > now - timedelta(days=1)
        )
    ).one()
    count, last = recent[0], recent[1]
    if last is not None and as_utc(last) > now - RESEND_AFTER:
        return Requested.TOO_SOON
    if count >= MAX_CODES_PER_DAY:
        return Requested.TOO_MANY
    code = f"{secrets.randbelow(10**6):06d}"
    person = registry_repo.person_by_identity(session, number)
    phone = person.phone if person is not None else None
    row = OneTimeCode(
        subject=subject,
        person_id=person.id if person is not None and phone else None,
        code_hash=_digest(secret, "code", code),
        created_at=now,
        expires_at=now + CODE_VALIDITY,
        attempts=0,
    )
    session.add(row)
    session.flush()
    if person is not None and phone:
        if users.user_of_person(session, person_id=person.id) is not None:
            row.code_hash = _digest(secret, "code", secrets.token_hex(16))  # no code to type
            sms.send(phone, HAS_ACCOUNT_TEXT)
        else:
            sms.send(phone, CODE_TEXT.format(code=code))
    return Requested.SENT


class Checked(StrEnum):
    VERIFIED = "verified"
    WRONG = "wrong"  # tries are left
    LOCKED = "locked"  # the last try failed: ask for a new code
    EXPIRED = "expired"  # no live code: too old, used up, or never asked for


@dataclass(frozen=True, slots=True)
class CodeCheck:
    outcome: Checked
    tries_left: int = 0
    ticket: str | None = None  # set when verified


def _latest(session: Session, subject: str) -> OneTimeCode | None:
    return session.scalars(
        select(OneTimeCode)
        .where(OneTimeCode.subject == subject)
        .order_by(OneTimeCode.created_at.desc(), OneTimeCode.id.desc())
        .limit(1)
        .with_for_update()
    ).first()


def check_code(
    session: Session, *, identity_number: str, code: str, secret: str, now: datetime
) -> CodeCheck:
    """Check a typed code against the latest one for the number. Returns the outcome (the
    count of tries must be committed with the answer, so it never raises for a wrong code)."""
    row = _latest(session, _subject(secret, identity_number))
    if (
        row is None
        or row.verified_at is not None
        or row.attempts >= MAX_TRIES
        or as_utc(row.expires_at) <= now
    ):
        return CodeCheck(Checked.EXPIRED)
    row.attempts += 1
    typed = _digest(secret, "code", code.strip())
    if not hmac.compare_digest(typed, row.code_hash):
        session.flush()
        left = MAX_TRIES - row.attempts
        return CodeCheck(Checked.LOCKED if left <= 0 else Checked.WRONG, tries_left=left)
    ticket = secrets.token_urlsafe(32)
    row.verified_at = now
    row.ticket_hash = hashlib.sha256(ticket.encode()).hexdigest()
    session.flush()
    return CodeCheck(Checked.VERIFIED, ticket=ticket)


class TicketState(StrEnum):
    READY = "ready"  # choose a login and a password
    NO_PHONE = "no_phone"  # (only by guessing an unsent code) no person with a phone
    HAS_ACCOUNT = "has_account"
    INVALID = "invalid"  # unknown, used or expired: start again


@dataclass(frozen=True, slots=True)
class Ticket:
    state: TicketState
    row: OneTimeCode | None = None
    person: Person | None = None


def read_ticket(session: Session, *, ticket: str, now: datetime) -> Ticket:
    """What a verified code's ticket allows now."""
    row = session.scalars(
        select(OneTimeCode).where(
            OneTimeCode.ticket_hash == hashlib.sha256(ticket.encode()).hexdigest()
        )
    ).first()
    if (
        row is None
        or row.verified_at is None
        or row.used_at is not None
        or as_utc(row.verified_at) + TICKET_VALIDITY <= now
    ):
        return Ticket(TicketState.INVALID)
    if row.person_id is None:
        return Ticket(TicketState.NO_PHONE, row)
    person = session.get(Person, row.person_id)
    if person is None:
        return Ticket(TicketState.NO_PHONE, row)
    if users.user_of_person(session, person_id=person.id) is not None:
        return Ticket(TicketState.HAS_ACCOUNT, row, person)
    return Ticket(TicketState.READY, row, person)


def complete_registration(
    session: Session, *, ticket: Ticket, login: str, password: str, now: datetime
) -> User:
    """The insured user of the ticket's person, with this login and password (the caller
    checked ``ticket.state`` is READY). Raises ``ValidationFailed`` for a login or password
    that cannot be used (nothing is then kept, when run in a savepoint)."""
    assert ticket.state is TicketState.READY and ticket.row and ticket.person
    issued = users.create_user(
        session, name=ticket.person.name, role="insured", person_id=ticket.person.id, actor=PLATFORM
    )
    users.set_password(
        session, user_id=issued.user.id, password=password, login=login, actor=PLATFORM
    )
    ticket.row.used_at = now
    session.flush()
    return issued.user
