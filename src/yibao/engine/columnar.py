"""The columnar engine: a whole table of claims settled at once, to the fen like :func:`settle`.

Claims and their lines come as two Arrow tables (the layout below), results go out as two
Arrow tables, one row per claim and one per line. Every figure is exactly what
:func:`~yibao.engine.settle.settle_run` gives for the same claims in the same order: the
differential tests compare every field of :func:`results_to_dicts` with
:func:`~yibao.engine.render.result_to_dict`.

Layout (rows of the claims table are in run order; a line names its claim by row index):

- claims: ``claim_id, date, setting, person_id, insured_region, scheme, person_type,
  assistance_eligible, account_balance_fen, year_to_date (JSON, nullable), institution_id,
  institution_region, institution_level, filing_type, filing_destination, filing_valid_from,
  filing_valid_to, emergency, liability``;
- lines: ``claim_row, code, quantity_e4, unit_price_e4, line_id`` (quantity and unit price
  × 10^4);
- results: ``claim_id, status, reason, offsite_status, policy_id``, every money field as
  ``<field>_fen``, the claim's person, date, setting and regions carried over, and the
  person's year after the claim (``acc_*``; ``acc_supplementary`` is JSON);
- result lines: ``claim_row, code, amount_fen, full_self_pay_fen, over_limit_self_pay_fen,
  pre_self_pay_fen, in_scope_fen`` (a rejected claim has none).

Pure computation over arrays (pyarrow, numpy, a Numba-compiled scan): no file or network
I/O here; reading and writing Parquet belongs to the callers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .columnar_convert import (
    claims_to_tables,
    results_from_settlements,
    tables_to_claims,
)
from .columnar_fast import settle_fast
from .columnar_schema import (
    CLAIM_SCHEMA,
    DICTIONARY_LINE_COLUMNS,
    DICTIONARY_RESULT_COLUMNS,
    LINE_SCHEMA,
    RESULT_LINE_SCHEMA,
    RESULT_LINE_SCHEMA_DICTIONARY,
    RESULT_SCHEMA,
    RESULT_SCHEMA_DICTIONARY,
)
from .models import Catalog, Claim, Policy
from .render import MONEY_FIELDS
from .settle import settle_run

__all__ = [
    "CLAIM_SCHEMA",
    "DICTIONARY_LINE_COLUMNS",
    "DICTIONARY_RESULT_COLUMNS",
    "LINE_SCHEMA",
    "RESULT_LINE_SCHEMA",
    "RESULT_LINE_SCHEMA_DICTIONARY",
    "RESULT_SCHEMA",
    "RESULT_SCHEMA_DICTIONARY",
    "claims_to_tables",
    "results_to_dicts",
    "settle_tables",
    "settle_tables_scalar",
]


def settle_tables_scalar(
    claims: pa.Table, lines: pa.Table, *, catalog: Catalog, policies: Sequence[Policy]
) -> tuple[pa.Table, pa.Table]:
    """The reference path: claims rebuilt one by one and settled by ``settle_run``."""
    built: list[Claim] = tables_to_claims(claims, lines)
    results = settle_run(built, policies=policies, catalog=catalog)
    return results_from_settlements(built, results)


def settle_tables(
    claims: pa.Table,
    lines: pa.Table,
    *,
    catalog: Catalog,
    policies: Sequence[Policy],
    dictionary_text: bool = False,
    threads: int | None = None,
) -> tuple[pa.Table, pa.Table]:
    """Settle every claim of the table in row order; ``(results, result_lines)``.

    Exactly ``settle_run`` over the same claims: the fast path carries what it can in
    whole fen and hands any person it cannot carry exactly to the scalar engine. An
    unknown catalog code raises :class:`~yibao.engine.settle.UnknownCatalogCode` as
    ``settle_run`` does, for the same claim and line.

    With ``dictionary_text`` the repeating text columns (``DICTIONARY_RESULT_COLUMNS`` and
    the lines' ``code``) are Arrow dictionaries (``RESULT_SCHEMA_DICTIONARY``,
    ``RESULT_LINE_SCHEMA_DICTIONARY``): the same values, cheaper to make and to write.

    ``threads``: how many threads (rounded down to a power of two) settle the claims, split
    by person; by default one per core (at most four) from 100,000 claims, else one. The
    tables do not depend on it.
    """
    return settle_fast(
        claims,
        lines,
        catalog=catalog,
        policies=policies,
        dictionary_text=dictionary_text,
        threads=threads,
    )


def _yuan_texts(column: pa.ChunkedArray | pa.Array) -> list[str]:
    """Whole fen as yuan text, a column at a time (the same text as ``yuan``)."""
    fen = np.asarray(column.to_numpy(), dtype=np.int64)
    size = np.abs(fen)
    whole = pa.array(size // 100).cast(pa.string())
    cents = pc.utf8_lpad(pa.array(size % 100).cast(pa.string()), width=2, padding="0")
    texts: list[str] = pc.binary_join_element_wise(whole, cents, ".").to_pylist()
    for i in np.nonzero(fen < 0)[0].tolist():
        texts[i] = "-" + texts[i]
    return texts


def results_to_dicts(results: pa.Table, result_lines: pa.Table) -> list[dict[str, Any]]:
    """Each result as :func:`~yibao.engine.render.result_to_dict` gives it (no explanation)."""
    plain = ("claim_id", "status", "reason", "offsite_status", "policy_id", "setting")
    cols: dict[str, list[Any]] = {name: results.column(name).to_pylist() for name in plain}
    for name in results.column_names:
        if name.endswith("_fen"):
            cols[name] = _yuan_texts(results.column(name))
    for name in ("acc_year", "acc_ip_admissions", "acc_op_admissions"):
        cols[name] = results.column(name).to_pylist()
    for name in ("acc_supplementary", "supplementary_by_name"):
        cols[name] = results.column(name).to_pylist()
    line_cols: dict[str, list[Any]] = {
        name: _yuan_texts(result_lines.column(name))
        for name in result_lines.column_names
        if name.endswith("_fen")
    }
    codes = result_lines.column("code").to_pylist()
    by_row: dict[int, list[dict[str, str]]] = {}
    for i, row in enumerate(result_lines.column("claim_row").to_pylist()):
        by_row.setdefault(row, []).append(
            {
                "code": codes[i],
                "amount": line_cols["amount_fen"][i],
                "full_self_pay": line_cols["full_self_pay_fen"][i],
                "over_limit_self_pay": line_cols["over_limit_self_pay_fen"][i],
                "pre_self_pay": line_cols["pre_self_pay_fen"][i],
                "in_scope": line_cols["in_scope_fen"][i],
            }
        )
    parsed: dict[str, Any] = {}
    out: list[dict[str, Any]] = []
    for i in range(results.num_rows):
        item: dict[str, Any] = {name: cols[name][i] for name in plain[:5]}
        for name in MONEY_FIELDS:
            item[name] = cols[f"{name}_fen"][i]
        item["lines"] = by_row.get(i, [])
        text = cols["acc_supplementary"][i]
        supplementary = parsed.get(text)
        if supplementary is None:
            supplementary = parsed[text] = json.loads(text)
        item["accumulators"] = {
            "year": cols["acc_year"][i],
            **{
                setting: {
                    "in_scope_cum": cols[f"acc_{short}_in_scope_cum_fen"][i],
                    "deductible_met": cols[f"acc_{short}_deductible_met_fen"][i],
                    "pool_paid_cum": cols[f"acc_{short}_pool_paid_cum_fen"][i],
                    "admissions": cols[f"acc_{short}_admissions"][i],
                }
                for setting, short in (("inpatient", "ip"), ("outpatient", "op"))
            },
            "supplementary": {name: dict(supplementary[name]) for name in sorted(supplementary)},
            "assistance_paid_cum": cols["acc_assistance_paid_cum_fen"][i],
        }
        item["setting"] = cols["setting"][i]
        item["supplementary_by_name"] = json.loads(cols["supplementary_by_name"][i])
        out.append(item)
    return out
