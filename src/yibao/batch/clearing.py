"""Clearing at national volume (全国清算): a month's statements from millions of rows.

The clearing service (:mod:`yibao.clearing.service`) builds a month's statements from the
stored settlements, one Python object per settlement; that is right for a region's month and
far too slow for the national one (tens of millions of direct settlements). Here the same
sums are made by a columnar group-by (Polars) over a Parquet file of *settlement rows*:

- :func:`export_settlements` writes that file from the database, the rows the clearing
  service would read for the month (``clearing.repository.settlements_up_to``: direct
  settlements and reversals between regions, stored up to the month's end, not yet in a
  confirmed statement), streamed in chunks, with the frozen ``(insured, treatment, month)``
  statements in the file's metadata;
- :func:`build_statements_frame` groups the file into the month's statements exactly as
  :func:`yibao.clearing.aggregate.build_statements` does: each row lands in the first month
  from its own whose statement for its pair is not frozen; local rows are skipped.

Both are reads: nothing here writes to the database.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from yibao.clearing import access as clearing_access
from yibao.clearing.aggregate import next_month, parse_month
from yibao.clearing.models import ClearingItem, ClearingStatement
from yibao.clearing.repository import confirmed_keys
from yibao.errors import InvalidInput, ValidationFailed
from yibao.registry.access import Actor
from yibao.settlements.models import SettlementRecord
from yibao.settlements.repository import cleared_between_regions

MONEY_COLUMNS = ("total_fen", "pool_fen", "supplementary_fen", "assistance_fen", "account_fen")
"""The signed sums of a statement (a reversal's amounts are negative), plus ``cash_fen``."""

SETTLEMENT_ROW_SCHEMA = pa.schema(
    [
        ("settlement_id", pa.int64()),
        ("kind", pa.string()),  # settlement | reversal
        ("year_month", pa.string()),  # YYYY-MM: the clearing period the row was stored in
        ("insured_region", pa.string()),
        ("treatment_region", pa.string()),
        ("institution_id", pa.int64()),  # nullable
        ("total_fen", pa.int64()),
        ("pool_fen", pa.int64()),
        ("supplementary_fen", pa.int64()),
        ("assistance_fen", pa.int64()),
        ("account_fen", pa.int64()),
        ("cash_fen", pa.int64()),
    ]
)
"""One row per stored direct settlement or reversal (the file of :func:`export_settlements`)."""

CONFIRMED_KEY = b"yibao.confirmed"
"""Parquet metadata: JSON list of the frozen ``[insured, treatment, month]`` statements."""

STATEMENT_COLUMNS = (
    "month",
    "insured_region",
    "treatment_region",
    "settlements",
    "reversals",
    "late_entries",
    "total_fen",
    "pool_fen",
    "supplementary_fen",
    "assistance_fen",
    "account_fen",
    "cash_fen",
    "fund_total_fen",
    "amount_due_fen",
)
"""The statements' table: the clearing service's figures (``clearing_statements``), in fen."""

Progress = Callable[[int, int], None]
"""``progress(done, total)``."""

_CHUNK = 50_000


def month_arg(text: str) -> str:
    """``YYYY-MM``, or the clearing service's one-line error."""
    try:
        return parse_month(text)
    except ValueError as exc:
        raise ValidationFailed(str(exc), code="clearing.month_invalid") from None


# --- export from the database ---------------------------------------------------------------


def settlement_scope(session: Session, actor: Actor) -> ColumnElement[bool]:
    """The settlements whose statements the actor is a party to (``clearing.access``)."""
    return clearing_access.party_scope(
        session,
        actor,
        insured_region=SettlementRecord.insured_region,
        treatment_region=SettlementRecord.treatment_region,
    )


def _rows_query(year_month: str, scope: ColumnElement[bool]) -> Any:
    s = SettlementRecord
    frozen = (
        select(ClearingItem.settlement_id)
        .join(ClearingStatement, ClearingStatement.id == ClearingItem.statement_id)
        .where(ClearingStatement.state == "confirmed")
    )
    return (
        select(
            s.id,
            s.kind,
            s.year_month,
            s.insured_region,
            s.treatment_region,
            s.institution_id,
            s.total_fen,
            s.pool_fund_pay_fen,
            s.supplementary_pay_fen,
            s.assistance_pay_fen,
            s.account_pay_fen,
            s.cash_pay_fen,
        )
        .where(s.year_month <= year_month, cleared_between_regions(), s.id.not_in(frozen), scope)
        .order_by(s.id)
    )


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target``, renamed onto it only when the block succeeds:
    a failed or interrupted write leaves no half-written file behind."""
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InvalidInput(str(target), "", f"folder {folder} does not exist")
    # a fresh name beside the target (same file system: the rename is atomic); created by
    # the writer with the usual permissions, not mkstemp's owner-only ones
    temp = folder / f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}.part"
    try:
        yield temp
        temp.replace(target)
    finally:
        temp.unlink(missing_ok=True)


def export_settlements(
    session: Session,
    *,
    actor: Actor,
    month: str,
    out: Path,
    progress: Progress | None = None,
) -> int:
    """Write the month's settlement rows (the actor's scope) to ``out``; their count.

    Streamed: ``_CHUNK`` rows at a time from a server-side cursor, one Parquet row group
    each, so memory stays flat whatever the month's size.
    """
    year_month = month_arg(month)
    scope = settlement_scope(session, actor)
    confirmed = sorted(confirmed_keys(session))
    query = _rows_query(year_month, scope)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    tick = progress or (lambda done, total: None)
    metadata = {CONFIRMED_KEY: json.dumps([list(key) for key in confirmed]).encode()}
    schema = SETTLEMENT_ROW_SCHEMA.with_metadata(metadata)
    written = 0
    with atomic_path(out) as temp, pq.ParquetWriter(temp, schema) as writer:
        result = session.execute(query.execution_options(yield_per=_CHUNK))
        for chunk in result.partitions(_CHUNK):
            columns = list(zip(*chunk, strict=True))
            writer.write_table(
                pa.Table.from_arrays(
                    [pa.array(col, type=f.type) for col, f in zip(columns, schema, strict=True)],
                    schema=schema,
                )
            )
            written += len(chunk)
            tick(written, max(total or 0, written))
        if written == 0:
            writer.write_table(schema.empty_table())
        tick(written, written)
    return written


# --- statements from the file ---------------------------------------------------------------


def read_confirmed(path: Path) -> set[tuple[str, str, str]]:
    """The frozen statements recorded in a settlement rows file (none if not recorded)."""
    meta = pq.read_schema(path).metadata or {}
    raw = meta.get(CONFIRMED_KEY)
    if raw is None:
        return set()
    return {(str(a), str(b), str(c)) for a, b, c in json.loads(raw)}


def check_rows_file(path: Path) -> pa.Schema:
    """The file's schema if it has every column of :data:`SETTLEMENT_ROW_SCHEMA`, with a
    clear error naming what is missing or mistyped otherwise."""
    if not path.exists():
        raise InvalidInput(str(path), "", "no such file")
    if path.is_dir():
        raise InvalidInput(str(path), "", "is a folder, not a file")
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(str(path), "", f"not a Parquet file ({exc})") from None
    for field in SETTLEMENT_ROW_SCHEMA:
        if field.name == "institution_id":
            continue  # optional: not needed for the sums
        if field.name not in schema.names:
            raise InvalidInput(str(path), f"column {field.name}", "missing column")
        found = schema.field(field.name).type
        wanted = field.type
        ok = (
            pa.types.is_integer(found)
            if pa.types.is_integer(wanted)
            else pa.types.is_string(found)
            or pa.types.is_large_string(found)
            or pa.types.is_dictionary(found)
        )
        if not ok:
            raise InvalidInput(str(path), f"column {field.name}", f"expected {wanted}, got {found}")
    return schema


def _accepted_periods(
    combos: Iterable[tuple[str, str, str]], month: str, confirmed: AbstractSet[tuple[str, str, str]]
) -> list[tuple[str, str, str]]:
    """The ``(insured, treatment, period)`` whose rows land in ``month``'s statement: the
    first month from the period whose statement for the pair is not frozen is ``month``
    (``clearing.aggregate.target_month``)."""
    accepted = []
    for insured, treatment, period in combos:
        target = period
        while (insured, treatment, target) in confirmed:
            target = next_month(target)
        if target == month:
            accepted.append((insured, treatment, period))
    return accepted


def build_statements_frame(
    source: Path | pl.LazyFrame,
    *,
    month: str,
    confirmed: AbstractSet[tuple[str, str, str]] | None = None,
) -> pl.DataFrame:
    """The month's statements, one row per region pair with anything to clear, sorted by
    pair, with the columns :data:`STATEMENT_COLUMNS` (money in fen).

    ``confirmed``: the frozen statements; by default those recorded in the file.
    """
    year_month = month_arg(month)
    if isinstance(source, Path):
        check_rows_file(source)
        frozen = read_confirmed(source) if confirmed is None else confirmed
        rows = pl.scan_parquet(source)
    else:
        frozen = confirmed or set()
        rows = source
    rows = rows.filter(
        (pl.col("insured_region") != pl.col("treatment_region"))
        & (pl.col("year_month") <= year_month)
    )
    # Only the periods of frozen pairs can move; without any, a row is in its own month.
    if frozen:
        combos = (
            rows.select("insured_region", "treatment_region", "year_month")
            .unique()
            .collect()
            .iter_rows()
        )
        accepted = _accepted_periods(combos, year_month, frozen)
        keys = pl.DataFrame(
            accepted,
            schema={
                "insured_region": pl.String,
                "treatment_region": pl.String,
                "year_month": pl.String,
            },
            orient="row",
        ).lazy()
        rows = rows.join(keys, on=["insured_region", "treatment_region", "year_month"], how="semi")
    else:
        rows = rows.filter(pl.col("year_month") == year_month)
    grouped = (
        rows.group_by("insured_region", "treatment_region")
        .agg(
            (pl.col("kind") != "reversal").sum().cast(pl.Int64).alias("settlements"),
            (pl.col("kind") == "reversal").sum().cast(pl.Int64).alias("reversals"),
            (pl.col("year_month") != year_month).sum().cast(pl.Int64).alias("late_entries"),
            *(pl.col(name).cast(pl.Int64).sum().alias(name) for name in MONEY_COLUMNS),
            pl.col("cash_fen").cast(pl.Int64).sum().alias("cash_fen"),
        )
        .with_columns(
            pl.lit(year_month).alias("month"),
            (pl.col("pool_fen") + pl.col("supplementary_fen") + pl.col("assistance_fen")).alias(
                "fund_total_fen"
            ),
        )
        .with_columns((pl.col("fund_total_fen") + pl.col("account_fen")).alias("amount_due_fen"))
        .sort("insured_region", "treatment_region")
        .select(STATEMENT_COLUMNS)
    )
    return grouped.collect()


def write_statements(frame: pl.DataFrame, out: Path) -> None:
    """The statements as CSV (``.csv``) or Parquet (anything else), written atomically."""
    with atomic_path(out) as temp:
        if out.suffix.lower() == ".csv":
            frame.write_csv(temp)
        else:
            frame.write_parquet(temp)


def statement_rows(frame: pl.DataFrame) -> Sequence[dict[str, Any]]:
    return frame.to_dicts()
