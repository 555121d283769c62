"""Files of a batch run: claims in (contract JSON, JSON Lines, Parquet), results out (Parquet).

Every claims file becomes the columnar engine's two tables (:mod:`yibao.engine.columnar`:
the claims table, one row per claim in run order, and the lines table). Whatever the
format, a claim is checked by the same rules as ``yibao settle``'s (the contract's JSON
through :mod:`yibao.inputs`, every line's code in the treatment region's catalog), and
invalid input is one :class:`~yibao.errors.InvalidInput` naming file, place and reason.

Parquet layout (docs/batch.md): ``X.parquet`` holds the claims table and ``X.lines.parquet``
beside it the lines table; or a folder holding ``claims.parquet`` and ``lines.parquet``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import ValidationError

from yibao.batch.clearing import atomic_path
from yibao.engine import Catalog, Claim, UnknownCatalogCode, check_codes
from yibao.engine.columnar import (
    CLAIM_SCHEMA,
    DICTIONARY_LINE_COLUMNS,
    DICTIONARY_RESULT_COLUMNS,
    LINE_SCHEMA,
    claims_to_tables,
)
from yibao.errors import InvalidInput
from yibao.inputs import YearToDateIn, parse_claims_text, parse_json_text

JSON_SUFFIXES = (".json",)
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
PARQUET_SUFFIXES = (".parquet", ".pq")

SETTINGS = ("inpatient", "outpatient")
SCHEMES = ("employee", "resident")
FILING_TYPES = (
    "resettled_retiree",
    "long_term_resident",
    "posted_worker",
    "minor_with_parents",
    "resident_mother_postnatal",
    "referral",
    "emergency",
    "other_temporary",
)
LIABILITIES = ("work_injury", "third_party", "public_health", "abroad", "third_party_unresolved")
_REGION = r"^[1-9][0-9]{5}$"

Tables = tuple[pa.Table, pa.Table]


def claims_format(path: Path) -> str:
    """``json``, ``jsonl`` or ``parquet``, by the name (a folder is Parquet)."""
    if str(path) == "-":
        return "json"
    suffix = path.suffix.lower()
    if suffix in JSON_SUFFIXES:
        return "json"
    if suffix in JSON_LINES_SUFFIXES:
        return "jsonl"
    if suffix in PARQUET_SUFFIXES or path.is_dir():
        return "parquet"
    raise InvalidInput(
        str(path),
        "",
        "unknown claims format: expected .json (a claim or a list), .jsonl/.ndjson (one claim "
        "a line), .parquet (with its .lines.parquet beside it) or a folder of Parquet files",
    )


def lines_path(claims: Path) -> Path:
    """The lines file of a Parquet claims file: ``X.parquet`` → ``X.lines.parquet``."""
    return claims.with_name(f"{claims.name.removesuffix(claims.suffix)}.lines{claims.suffix}")


def parquet_paths(path: Path) -> tuple[Path, Path]:
    """The claims file and the lines file of a Parquet claims input."""
    if path.is_dir():
        return path / "claims.parquet", path / "lines.parquet"
    return path, lines_path(path)


# --- JSON and JSON Lines --------------------------------------------------------------------


def tables_of(claims: Sequence[Claim]) -> Tables:
    """Claims already read and checked (``yibao settle``'s reader) as the two tables."""
    return claims_to_tables(claims)


def claims_from_json_lines(text: str, source: str, catalog: Catalog) -> list[Claim]:
    """One contract claim per line (blank lines skipped), each checked as ``yibao settle``
    checks a claim of a list; places are ``line N``."""
    claims: list[Claim] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        data = parse_json_text_at(raw, source, number)
        if not isinstance(data, dict):
            raise InvalidInput(source, f"line {number}", "a claim must be a JSON object")
        try:
            [claim] = parse_claims_text(raw, source)
        except InvalidInput as exc:
            where = exc.where if exc.where and exc.where != "top level" else ""
            place = f"line {number}" + (f", {where}" if where else "")
            raise InvalidInput(source, place, exc.reason, code=exc.code) from None
        try:
            check_codes(claim, catalog)
        except UnknownCatalogCode as exc:
            raise InvalidInput(
                source,
                f"line {number}, lines[{exc.line_index}].code (claim {claim.claim_id})",
                str(exc),
                code="catalog.unknown_code",
            ) from None
        claims.append(claim)
    return claims


def parse_json_text_at(raw: str, source: str, number: int) -> Any:
    """One line's JSON; an error names the file's line and the column in it."""
    try:
        return parse_json_text(raw, source)
    except InvalidInput as exc:
        column = exc.where.split("column ", 1)[1] if "column " in exc.where else ""
        place = f"line {number}" + (f", column {column}" if column else "")
        raise InvalidInput(source, place, exc.reason) from None


# --- Parquet ----------------------------------------------------------------------------------


def _read_parquet(path: Path) -> pa.Table:
    if not path.exists():
        raise InvalidInput(str(path), "", "no such file")
    if path.is_dir():
        raise InvalidInput(str(path), "", "is a folder, not a file")
    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(str(path), "", f"not a Parquet file ({exc})") from None


def _conform(table: pa.Table, schema: pa.Schema, source: str) -> pa.Table:
    """The table with the schema's columns in its order and types: a missing nullable column
    is all nulls, a missing required one or an uncastable type is an error."""
    columns = []
    for field in schema:
        if field.name not in table.column_names:
            if not field.nullable or field.name in _REQUIRED:
                raise InvalidInput(source, f"column {field.name}", "missing column")
            columns.append(pa.nulls(table.num_rows, type=field.type))
            continue
        column = table.column(field.name)
        if column.type != field.type:
            try:
                column = column.cast(field.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise InvalidInput(
                    source,
                    f"column {field.name}",
                    f"expected {field.type}, got {column.type} ({exc})",
                ) from None
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=schema)


_REQUIRED = frozenset(
    {
        "claim_id",
        "date",
        "setting",
        "person_id",
        "insured_region",
        "scheme",
        "person_type",
        "assistance_eligible",
        "account_balance_fen",
        "institution_id",
        "institution_region",
        "institution_level",
        "emergency",
        "claim_row",
        "code",
        "quantity_e4",
        "unit_price_e4",
    }
)


class _Rows:
    """Reports the first failing row of a check, with the claim it belongs to."""

    def __init__(self, source: str, claim_ids: pa.ChunkedArray | None) -> None:
        self.source = source
        self.claim_ids = claim_ids

    def place(self, row: int, column: str, *, claim_row: int | None = None) -> str:
        claim = None
        if self.claim_ids is not None:
            at = row if claim_row is None else claim_row
            if 0 <= at < len(self.claim_ids):
                claim = self.claim_ids[at].as_py()
        return f"row {row}" + (f" (claim {claim})" if claim else "") + f", column {column}"

    def check(
        self,
        bad: pa.ChunkedArray | pa.Array,
        column: str,
        reason: str,
        *,
        claim_rows: np.ndarray[Any, Any] | None = None,
    ) -> None:
        mask = np.asarray(pc.fill_null(bad, True).to_numpy(zero_copy_only=False), dtype=bool)
        hits = np.flatnonzero(mask)
        if hits.size:
            row = int(hits[0])
            claim_row = int(claim_rows[row]) if claim_rows is not None else None
            raise InvalidInput(self.source, self.place(row, column, claim_row=claim_row), reason)


def _not_in(column: pa.ChunkedArray, allowed: Sequence[str]) -> pa.ChunkedArray:
    return pc.invert(pc.is_in(column, value_set=pa.array(list(allowed))))


def _check_claims(claims: pa.Table, source: str) -> None:
    rows = _Rows(source, claims.column("claim_id"))
    for name in _REQUIRED & set(claims.column_names):
        rows.check(pc.is_null(claims.column(name)), name, "empty value")
    for name in ("claim_id", "person_id", "person_type", "institution_id"):
        rows.check(
            pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(claims.column(name))), 0),
            name,
            "must not be empty",
        )
    rows.check(
        _not_in(claims.column("setting"), SETTINGS), "setting", "expected inpatient or outpatient"
    )
    rows.check(_not_in(claims.column("scheme"), SCHEMES), "scheme", "expected employee or resident")
    for name in ("insured_region", "institution_region"):
        rows.check(
            pc.invert(pc.match_substring_regex(claims.column(name), _REGION)),
            name,
            "not a six-digit region code (GB/T 2260)",
        )
    level = claims.column("institution_level")
    rows.check(
        pc.or_kleene(pc.less(level, 1), pc.greater(level, 3)),
        "institution_level",
        "not a hospital level (1, 2 or 3)",
    )
    rows.check(
        pc.less(claims.column("account_balance_fen"), 0),
        "account_balance_fen",
        "must not be negative",
    )
    filed = pc.is_valid(claims.column("filing_type"))
    rows.check(
        pc.and_kleene(filed, _not_in(claims.column("filing_type"), FILING_TYPES)),
        "filing_type",
        f"expected one of {', '.join(FILING_TYPES)}",
    )
    for name in ("filing_destination", "filing_valid_from"):
        rows.check(
            pc.and_kleene(filed, pc.is_null(claims.column(name))),
            name,
            "a filing needs a destination and valid_from",
        )
    rows.check(
        pc.and_kleene(
            pc.is_valid(claims.column("filing_destination")),
            pc.invert(pc.match_substring_regex(claims.column("filing_destination"), _REGION)),
        ),
        "filing_destination",
        "not a six-digit region code (GB/T 2260)",
    )
    liability = claims.column("liability")
    rows.check(
        pc.and_kleene(pc.is_valid(liability), _not_in(liability, LIABILITIES)),
        "liability",
        f"expected one of {', '.join(LIABILITIES)}",
    )
    _check_year_to_date(claims, rows)


def _check_year_to_date(claims: pa.Table, rows: _Rows) -> None:
    """``year_to_date`` (rare): the contract's JSON, read by the same model as JSON claims."""
    ytd = claims.column("year_to_date")
    present = np.flatnonzero(pc.is_valid(ytd).to_numpy(zero_copy_only=False))
    for row in present:
        text = ytd[int(row)].as_py()
        place = rows.place(int(row), "year_to_date")
        try:
            data = parse_json_text(text, rows.source)
        except InvalidInput as exc:
            raise InvalidInput(rows.source, place, exc.reason) from None
        try:
            YearToDateIn.model_validate(data)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(p) for p in error["loc"])
            reason = error["msg"].removeprefix("Value error, ")
            raise InvalidInput(
                rows.source, place + (f".{where}" if where else ""), reason
            ) from None


def _check_lines(lines: pa.Table, claims: pa.Table, source: str, catalog: Catalog) -> None:
    claim_row = lines.column("claim_row").to_numpy()
    rows = _Rows(source, None)
    rows.check(pc.is_null(lines.column("claim_row")), "claim_row", "empty value")
    rows.check(
        pc.or_kleene(
            pc.less(lines.column("claim_row"), 0),
            pc.greater_equal(lines.column("claim_row"), claims.num_rows),
        ),
        "claim_row",
        f"not a row of the claims table (0 to {claims.num_rows - 1})",
    )
    located = _Rows(source, claims.column("claim_id"))
    for name in ("code", "quantity_e4", "unit_price_e4"):
        located.check(pc.is_null(lines.column(name)), name, "empty value", claim_rows=claim_row)
    for name in ("quantity_e4", "unit_price_e4"):
        located.check(
            pc.less(lines.column(name), 0), name, "must not be negative", claim_rows=claim_row
        )
    # Every (treatment region, code) once against the catalog, not every line.
    regions = pc.take(claims.column("institution_region"), pa.array(claim_row))
    pairs = pa.table({"region": regions, "code": lines.column("code")})
    unique = pairs.group_by(["region", "code"]).aggregate([])
    unknown = [
        (region, code)
        for region, code in zip(
            unique.column("region").to_pylist(), unique.column("code").to_pylist(), strict=True
        )
        if catalog.get(region, code) is None
    ]
    if unknown:
        bad = pa.array(sorted({code for _, code in unknown}))
        bad_regions = pa.array(sorted({region for region, _ in unknown}))
        mask = pc.and_kleene(
            pc.is_in(pairs.column("code"), bad), pc.is_in(pairs.column("region"), bad_regions)
        )
        for row in np.flatnonzero(mask.to_numpy(zero_copy_only=False)):
            region, code = regions[int(row)].as_py(), lines.column("code")[int(row)].as_py()
            if catalog.get(region, code) is None:
                place = located.place(int(row), "code", claim_row=int(claim_row[row]))
                raise InvalidInput(
                    source,
                    place,
                    str(UnknownCatalogCode(0, code, region)),
                    code="catalog.unknown_code",
                )


def read_parquet_claims(path: Path, catalog: Catalog) -> Tables:
    """The claims and lines tables of a Parquet input, conformed to the layout and checked."""
    claims_file, lines_file = parquet_paths(path)
    claims = _conform(_read_parquet(claims_file), CLAIM_SCHEMA, str(claims_file))
    _check_claims(claims, str(claims_file))
    lines = _conform(_read_parquet(lines_file), LINE_SCHEMA, str(lines_file))
    _check_lines(lines, claims, str(lines_file), catalog)
    order = lines.column("claim_row").to_numpy()
    if order.size > 1 and bool(np.any(order[1:] < order[:-1])):
        # the engine reads a claim's lines together, in their order in the file
        lines = lines.take(pa.array(np.argsort(order, kind="stable")))
    return claims.combine_chunks(), lines.combine_chunks()


# --- results ----------------------------------------------------------------------------------


# Text columns of the results whose values repeat (a handful of statuses, policies, regions,
# patterns of supplementary names): Parquet dictionary-encodes them. No other column gets a
# dictionary: over amounts, ids or accumulators it mostly overflows and falls back after
# hashing every value (measured: docs/benchmarks.md, "Batch: the columnar engine").
RESULT_DICTIONARY_COLUMNS = (
    *DICTIONARY_RESULT_COLUMNS,
    "supplementary_by_name",
    *DICTIONARY_LINE_COLUMNS,
)
RESULT_COMPRESSION = "lz4"
"""LZ4: as small as snappy for less CPU (57 and 27 MiB for a million claims and their 3.5
million lines); zstd writes a results file 20% smaller for about 20% more CPU."""


def write_parquet(table: pa.Table, path: Path, *, compression: str = RESULT_COMPRESSION) -> None:
    """One results table as Parquet: the repeating text columns dictionary-encoded, the other
    texts plain, integers and dates delta-encoded (``DELTA_BINARY_PACKED``: less CPU than a
    dictionary, a smaller file than plain), min/max statistics for the non-text columns
    only (those of long texts such as ids and JSON cost much and serve no filter)."""
    texts = [f.name for f in table.schema if pa.types.is_string(f.type)]
    # columns already dictionaries in memory (``settle_tables(..., dictionary_text=True)``)
    # are written as they are: their indices, with no hashing of the texts
    dictionaries = [f.name for f in table.schema if pa.types.is_dictionary(f.type)]
    integers = [
        f.name for f in table.schema if pa.types.is_integer(f.type) or pa.types.is_date(f.type)
    ]
    pq.write_table(
        table,
        path,
        compression=compression,
        use_dictionary=dictionaries + [name for name in texts if name in RESULT_DICTIONARY_COLUMNS],
        write_statistics=[
            name for name in table.column_names if name not in texts and name not in dictionaries
        ],
        column_encoding={name: "DELTA_BINARY_PACKED" for name in integers},
    )


def write_results(
    results: pa.Table,
    result_lines: pa.Table,
    *,
    out: Path,
    lines_out: Path | None,
    compression: str = RESULT_COMPRESSION,
) -> None:
    """The results (and their lines), each written to a temporary file beside its target and
    renamed only once both are written: an error leaves no file behind. The two files are
    written at the same time, the lines on a second thread (Parquet writing releases the
    GIL)."""
    with ExitStack() as stack:
        temp = stack.enter_context(atomic_path(out))
        if lines_out is None:
            write_parquet(results, temp, compression=compression)
            return
        lines_temp = stack.enter_context(atomic_path(lines_out))
        # leaving the pool's block waits for the lines: both writes are over before either
        # temporary file is renamed or removed
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="yibao-write") as pool:
            pending = pool.submit(write_parquet, result_lines, lines_temp, compression=compression)
            write_parquet(results, temp, compression=compression)
        pending.result()


def check_out_path(path: Path, option: str) -> None:
    """An output must go to a file in an existing folder (checked before any work)."""
    if path.is_dir():
        raise InvalidInput(option, str(path), "is a folder; name a file")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InvalidInput(option, str(path), f"folder {folder} does not exist")
    if not re.search(r"\S", path.name):
        raise InvalidInput(option, str(path), "no file name")
