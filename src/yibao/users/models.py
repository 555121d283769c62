"""One-time codes of self-registration: an insured person proves the registered phone.

A row is kept for every request for a code, whether or not the identity number belongs to
a person with a phone (then no code is sent, and nobody can know it): every answer of the
registration page is the same for all identity numbers (:mod:`yibao.users.registration`).
The identity number is never stored here, only its keyed digest; the code only as a keyed
digest too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db import Base


class OneTimeCode(Base):
    """A six-digit code sent by SMS, valid for a few minutes and a few tries."""

    __tablename__ = "one_time_codes"
    __table_args__ = (Index("ix_one_time_codes_subject_created", "subject", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # HMAC-SHA256 (the platform's secret key) of the identity number that asked for it
    subject: Mapped[str] = mapped_column(String(64))
    # the person it was sent for (None: no person with a phone, no code was sent)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # set once the right code was typed; the browser then holds the ticket for the last step
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ticket_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
