"""Between the engine's objects and the columnar layout: claims to tables, tables to claims,
settlements to result tables. Used by the reference path and for persons the fast path
hands back to the scalar engine.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pyarrow as pa

from yibao.money import FEN, to_e4, to_fen

from .columnar_schema import CLAIM_SCHEMA, LINE_SCHEMA, RESULT_LINE_SCHEMA, RESULT_SCHEMA
from .models import (
    Claim,
    ClaimLine,
    FilingInfo,
    InstitutionInfo,
    PersonInfo,
    SettingAccumulator,
    Settlement,
    YearAccumulators,
)
from .render import LINE_FIELDS, MONEY_FIELDS, accumulators_from_dict

_E4 = Decimal(10_000)


def shown_fen(value: Decimal) -> int:
    """Whole fen of an amount as ``result_to_dict`` shows it (quantized to the fen)."""
    return int(value.quantize(FEN) * 100)


def supplementary_json(values: dict[str, tuple[int, int]]) -> str:
    """``acc_supplementary``: ``{NAME: {"base_cum": yuan, "paid_cum": yuan}}``, names sorted,
    compact, non-ASCII kept (the one text form, built the same way by the fast path)."""
    return json.dumps(
        {
            name: {"base_cum": yuan(base), "paid_cum": yuan(paid)}
            for name, (base, paid) in sorted(values.items())
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def by_name_json(values: Sequence[tuple[str, int]]) -> str:
    """``supplementary_by_name``: ``{NAME: yuan}`` in the policy's order."""
    return json.dumps(
        {name: yuan(fen) for name, fen in values}, ensure_ascii=False, separators=(",", ":")
    )


def yuan(fen: int) -> str:
    """Whole fen as the contract's yuan text (``1234.50``)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


# --- year to date -------------------------------------------------------------------------


def _plain(value: Decimal) -> str:
    return format(value, "f")


def ytd_to_json(acc: YearAccumulators) -> str:
    """A ``year_to_date`` starting state as the contract's JSON (exact decimal text)."""

    def setting(part: SettingAccumulator) -> dict[str, Any]:
        return {
            "in_scope_cum": _plain(part.in_scope_cum),
            "deductible_met": _plain(part.deductible_met),
            "pool_paid_cum": _plain(part.pool_paid_cum),
            "admissions": part.admissions,
        }

    return json.dumps(
        {
            "inpatient": setting(acc.inpatient),
            "outpatient": setting(acc.outpatient),
            "supplementary": {
                name: {"base_cum": _plain(s.base_cum), "paid_cum": _plain(s.paid_cum)}
                for name, s in acc.supplementary.items()
            },
            "assistance_paid_cum": _plain(acc.assistance_paid_cum),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def ytd_from_json(text: str, year: int) -> YearAccumulators:
    data = json.loads(text, parse_float=Decimal)
    return replace(accumulators_from_dict(data, year=year), year=year)


# --- claims <-> tables --------------------------------------------------------------------


def claims_to_tables(claims: Sequence[Claim]) -> tuple[pa.Table, pa.Table]:
    """Claims in run order as the layout's ``(claims, lines)`` tables.

    A balance that is not a whole number of fen, or a quantity or unit price with more
    than 4 decimals, cannot be written in the layout: ``ValueError``.
    """
    cols: dict[str, list[Any]] = {name: [] for name in CLAIM_SCHEMA.names}
    lcols: dict[str, list[Any]] = {name: [] for name in LINE_SCHEMA.names}
    for row, claim in enumerate(claims):
        person, inst, filing = claim.person, claim.institution, claim.filing
        cols["claim_id"].append(claim.claim_id)
        cols["date"].append(claim.date)
        cols["setting"].append(claim.setting)
        cols["person_id"].append(person.id)
        cols["insured_region"].append(person.insured_region)
        cols["scheme"].append(person.scheme)
        cols["person_type"].append(person.person_type)
        cols["assistance_eligible"].append(person.assistance_eligible)
        cols["account_balance_fen"].append(to_fen(person.account_balance))
        ytd = person.year_to_date
        cols["year_to_date"].append(ytd_to_json(ytd) if ytd is not None else None)
        cols["institution_id"].append(inst.id)
        cols["institution_region"].append(inst.region)
        cols["institution_level"].append(inst.level)
        cols["filing_type"].append(filing.type if filing else None)
        cols["filing_destination"].append(filing.destination if filing else None)
        cols["filing_valid_from"].append(filing.valid_from if filing else None)
        cols["filing_valid_to"].append(filing.valid_to if filing else None)
        cols["emergency"].append(claim.emergency)
        cols["liability"].append(claim.liability)
        for ln in claim.lines:
            lcols["claim_row"].append(row)
            lcols["code"].append(ln.code)
            lcols["quantity_e4"].append(to_e4(ln.quantity))
            lcols["unit_price_e4"].append(to_e4(ln.unit_price))
            lcols["line_id"].append(ln.line_id)
    return (
        pa.Table.from_pydict(cols, schema=CLAIM_SCHEMA),
        pa.Table.from_pydict(lcols, schema=LINE_SCHEMA),
    )


def _e4(value: int) -> Decimal:
    return Decimal(value) / _E4


def tables_to_claims(claims: pa.Table, lines: pa.Table) -> list[Claim]:
    """The layout's tables back into claims (in row order)."""
    cols = claims.select(CLAIM_SCHEMA.names).to_pydict()
    lcols = lines.select(LINE_SCHEMA.names).to_pydict()
    per_claim: list[list[ClaimLine]] = [[] for _ in range(claims.num_rows)]
    for row, code, qty, price, line_id in zip(
        lcols["claim_row"],
        lcols["code"],
        lcols["quantity_e4"],
        lcols["unit_price_e4"],
        lcols["line_id"],
        strict=True,
    ):
        per_claim[row].append(ClaimLine(code, _e4(qty), _e4(price), line_id))
    out: list[Claim] = []
    for i in range(claims.num_rows):
        day: date = cols["date"][i]
        ytd_text = cols["year_to_date"][i]
        ftype = cols["filing_type"][i]
        out.append(
            Claim(
                claim_id=cols["claim_id"][i],
                date=day,
                setting=cols["setting"][i],
                person=PersonInfo(
                    id=cols["person_id"][i],
                    insured_region=cols["insured_region"][i],
                    scheme=cols["scheme"][i],
                    person_type=cols["person_type"][i],
                    assistance_eligible=bool(cols["assistance_eligible"][i]),
                    account_balance=Decimal(cols["account_balance_fen"][i]) / 100,
                    year_to_date=ytd_from_json(ytd_text, day.year) if ytd_text else None,
                ),
                institution=InstitutionInfo(
                    id=cols["institution_id"][i],
                    region=cols["institution_region"][i],
                    level=int(cols["institution_level"][i]),
                ),
                lines=tuple(per_claim[i]),
                filing=(
                    FilingInfo(
                        type=ftype,
                        destination=cols["filing_destination"][i],
                        valid_from=cols["filing_valid_from"][i],
                        valid_to=cols["filing_valid_to"][i],
                    )
                    if ftype is not None
                    else None
                ),
                emergency=bool(cols["emergency"][i]),
                liability=cols["liability"][i],
            )
        )
    return out


# --- settlements -> result tables ---------------------------------------------------------


def results_from_settlements(
    claims: Sequence[Claim], results: Sequence[Settlement], rows: Sequence[int] | None = None
) -> tuple[pa.Table, pa.Table]:
    """Settlements as the layout's result tables; ``rows`` are the claims' row numbers
    (default 0..n-1), written as the result lines' ``claim_row``."""
    cols: dict[str, list[Any]] = {name: [] for name in RESULT_SCHEMA.names}
    lcols: dict[str, list[Any]] = {name: [] for name in RESULT_LINE_SCHEMA.names}
    for index, (claim, result) in enumerate(zip(claims, results, strict=True)):
        row = rows[index] if rows is not None else index
        cols["claim_id"].append(result.claim_id)
        cols["status"].append(result.status)
        cols["reason"].append(result.reason)
        cols["offsite_status"].append(result.offsite_status)
        cols["policy_id"].append(result.policy_id)
        for name in MONEY_FIELDS:
            cols[f"{name}_fen"].append(shown_fen(getattr(result, name)))
        cols["person_id"].append(claim.person.id)
        cols["date"].append(claim.date)
        cols["setting"].append(claim.setting)
        cols["insured_region"].append(claim.person.insured_region)
        cols["scheme"].append(claim.person.scheme)
        cols["person_type"].append(claim.person.person_type)
        cols["institution_region"].append(claim.institution.region)
        acc = result.accumulators
        cols["acc_year"].append(acc.year)
        for short, part in (("ip", acc.inpatient), ("op", acc.outpatient)):
            cols[f"acc_{short}_in_scope_cum_fen"].append(shown_fen(part.in_scope_cum))
            cols[f"acc_{short}_deductible_met_fen"].append(shown_fen(part.deductible_met))
            cols[f"acc_{short}_pool_paid_cum_fen"].append(shown_fen(part.pool_paid_cum))
            cols[f"acc_{short}_admissions"].append(part.admissions)
        cols["acc_assistance_paid_cum_fen"].append(shown_fen(acc.assistance_paid_cum))
        cols["acc_supplementary"].append(
            supplementary_json(
                {
                    name: (shown_fen(s.base_cum), shown_fen(s.paid_cum))
                    for name, s in acc.supplementary.items()
                }
            )
        )
        cols["supplementary_by_name"].append(
            by_name_json([(k, shown_fen(v)) for k, v in result.supplementary_by_name.items()])
        )
        for ln in result.lines:
            lcols["claim_row"].append(row)
            lcols["code"].append(ln.code)
            for name in LINE_FIELDS:
                lcols[f"{name}_fen"].append(shown_fen(getattr(ln, name)))
    return (
        pa.Table.from_pydict(cols, schema=RESULT_SCHEMA),
        pa.Table.from_pydict(lcols, schema=RESULT_LINE_SCHEMA),
    )
