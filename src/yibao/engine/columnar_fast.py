"""The fast path of :func:`yibao.engine.columnar.settle_tables`.

1. Columns become integer codes (dictionary encoding): persons, years, policies chosen by
   (region, scheme, person type, date), off-site status, the catalog row of every line.
2. The lines are settled by one compiled loop, then the claims by another, in run order,
   each person's year carried in arrays indexed by (person, year).
3. Whatever cannot be carried exactly in int64 whole fen (see
   :mod:`yibao.engine.columnar_policy` and the overflow checks of the kernels) is settled
   by the scalar engine for the whole person, and its rows take their place.
4. The result tables are assembled with Arrow compute: JSON texts are joined column-wise,
   one pattern of supplementary names at a time; the result lines are picked by a compiled
   loop. Repeating texts are plain or, with ``dictionary_text``, Arrow dictionaries.
5. On a large table the claim scan runs on one thread per core, split by person (no state
   crosses persons), and independent steps (hashing the person ids, the result lines, the
   accumulators' texts) run beside the others: the same tables as on one thread.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import numba
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from .columnar_convert import (
    results_from_settlements,
    tables_to_claims,
    ytd_from_json,
)
from .columnar_kernels import (
    MONEY_WIDTH,
    STATE_WIDTH,
    select_lines,
    settle_claims,
    settle_lines,
    text_lengths,
    text_write,
)
from .columnar_policy import (
    MAX_PLACES,
    NONE,
    STATUSES,
    PolicyArrays,
    encode_policies,
    fen_of,
    places,
)
from .columnar_schema import (
    CLAIM_SCHEMA,
    LINE_SCHEMA,
    RESULT_LINE_SCHEMA,
    RESULT_LINE_SCHEMA_DICTIONARY,
    RESULT_SCHEMA,
    RESULT_SCHEMA_DICTIONARY,
    TEXT,
)
from .models import EXCLUDING_LIABILITIES, LONG_TERM_FILINGS, Catalog, Policy
from .render import LINE_FIELDS, MONEY_FIELDS
from .settle import UnknownCatalogCode, settle_run

I64 = npt.NDArray[np.int64]
BOOL = npt.NDArray[np.bool_]
_EPOCH = date(1970, 1, 1)
_FAR = np.iinfo(np.int64).max
# below this many claims the claim scan runs on one thread
PARALLEL_CLAIMS = 100_000
# at most this many threads for the claim scan (a power of two)
MAX_SCAN_THREADS = 4
# reasons a claim is rejected before any money moves
NO_POLICY, SEVERAL, NO_RULES, HOME_SUSPENDED = 1, 2, 3, 4


# --- columns as codes -----------------------------------------------------------------------


def _raw(table: pa.Table, name: str) -> pa.Array:
    """One column as a single array (dictionary-encoded columns stay so)."""
    column = table.column(name)
    if column.num_chunks == 1:
        return column.chunk(0)
    if column.num_chunks == 0:
        return pa.array([], column.type)
    # chunks of a dictionary-encoded column (Parquet row groups) are concatenated with
    # their dictionaries unified: no decoding to text and re-encoding
    return column.combine_chunks()


def _array(table: pa.Table, name: str) -> pa.Array:
    """One column as a single plain array."""
    array = _raw(table, name)
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    return array


def _codes(array: pa.Array) -> tuple[I64, list[Any]]:
    """Integer codes (-1 for null) and the distinct values they stand for.

    A dictionary-encoded column (as Parquet gives it with ``read_dictionary``) is used as
    it is, with no hashing of its values; a dictionary holding a value twice is mapped to
    one code per value."""
    encoded = array if pa.types.is_dictionary(array.type) else pc.dictionary_encode(array)
    indices = encoded.indices
    if indices.null_count:
        indices = pc.fill_null(indices, -1)
    codes = np.asarray(indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    values = encoded.dictionary.to_pylist()
    if len(set(values)) != len(values):
        first: dict[Any, int] = {}
        remap = np.array([first.setdefault(v, len(first)) for v in values] + [-1], np.int64)
        codes = remap[codes]
        values = list(first)
    return codes, values


def _lookup(codes: I64, table: npt.NDArray[Any], missing: Any) -> npt.NDArray[Any]:
    """``table[code]`` per row, ``missing`` where the code is -1 (null)."""
    extended = np.append(table, np.array([missing], dtype=table.dtype))
    return np.asarray(extended[codes])


def _bools(array: pa.Array | pa.ChunkedArray) -> BOOL:
    if array.null_count:
        array = pc.fill_null(array, False)
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=np.bool_)


def _ints(array: pa.Array, fill: int) -> I64:
    if pa.types.is_date(array.type):
        array = pc.cast(array, pa.int32())
    if array.null_count:
        array = pc.fill_null(pc.cast(array, pa.int64()), fill)
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=np.int64)


class _Regions:
    """Region codes of several columns in one code space."""

    def __init__(self) -> None:
        self.ids: dict[Any, int] = {}

    def of(self, values: list[Any]) -> I64:
        return np.array([self.ids.setdefault(v, len(self.ids)) for v in values], np.int64)


T = TypeVar("T")


class _Tasks:
    """Work for a second thread (Numba's loops and Arrow's kernels release the GIL), or,
    when not ``parallel``, done at once on this one; either way ``run(...)`` gives a
    function that returns the result (or raises its error)."""

    def __init__(self, parallel: bool) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1) if parallel else None

    def __enter__(self) -> _Tasks:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)

    def run(self, fn: Callable[..., T], *args: Any) -> Callable[[], T]:
        if self.pool is None:
            value = fn(*args)
            return lambda: value
        return self.pool.submit(fn, *args).result


def _day(days: int) -> date:
    return _EPOCH + timedelta(days=int(days))


def _day_number(day: date | None) -> int:
    return _FAR if day is None else (day - _EPOCH).days


# --- the claims ----------------------------------------------------------------------------


@dataclass
class _Claims:
    n: int
    person: I64
    persons: list[Any]
    group: I64
    n_groups: int
    days: I64
    year: I64
    setting: npt.NDArray[np.int8]
    level: I64
    status: npt.NDArray[np.int8]
    excluded: BOOL
    recoverable: BOOL
    assistance_eligible: BOOL
    resident: BOOL
    balance: I64
    bad: BOOL
    region_codes: I64  # institution region
    regions: list[Any]
    has_filing: BOOL
    filing_valid: BOOL
    long_term: BOOL
    local: BOOL
    insured_codes: I64
    insured_values: list[Any]
    scheme_codes: I64
    scheme_values: list[Any]


def _claims(claims: pa.Table, parallel: bool) -> _Claims:
    n = claims.num_rows
    with _Tasks(parallel) as tasks:
        # hashing the person ids (text, seldom a dictionary) on a second thread
        person_task = tasks.run(_codes, _raw(claims, "person_id"))
        c = _claims_but_persons(claims)
    person, persons = person_task()
    c.person, c.persons = person, persons
    year = c.year
    ymin, ymax = int(year.min()), int(year.max())
    span = ymax - ymin + 1
    key = person * span + (year - ymin)
    if len(persons) * span <= 4 * n + 1024:
        group, n_groups = key, len(persons) * span
    else:
        unique, inverse = np.unique(key, return_inverse=True)
        group, n_groups = inverse.astype(np.int64), len(unique)
    c.group, c.n_groups = np.ascontiguousarray(group, dtype=np.int64), n_groups
    return c


def _claims_but_persons(claims: pa.Table) -> _Claims:
    """Every column of :class:`_Claims` but the persons and their groups (set after)."""
    n = claims.num_rows
    days = _ints(_array(claims, "date"), 0)
    year = days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970

    setting_codes, setting_values = _codes(_raw(claims, "setting"))
    setting_of = np.array(
        [{"inpatient": 0, "outpatient": 1}.get(v, -1) for v in setting_values], np.int64
    )
    setting = _lookup(setting_codes, setting_of, -1)
    level = _ints(_array(claims, "institution_level"), 0)
    bad = (setting < 0) | (level < 1) | (level > 3)
    level = np.where(bad, 1, level)

    regions = _Regions()
    insured_codes, insured_values = _codes(_raw(claims, "insured_region"))
    treated_codes, treated_values = _codes(_raw(claims, "institution_region"))
    dest_codes, dest_values = _codes(_raw(claims, "filing_destination"))
    insured_ids = regions.of(insured_values)
    treated_ids = regions.of(treated_values)
    regions.of(dest_values)
    local = _lookup(insured_codes, insured_ids, -1) == _lookup(treated_codes, treated_ids, -2)

    type_codes, type_values = _codes(_raw(claims, "filing_type"))
    has_filing = type_codes >= 0
    long_term = _lookup(
        type_codes, np.array([v in LONG_TERM_FILINGS for v in type_values], np.bool_), False
    )
    valid_from = _array(claims, "filing_valid_from")
    bad |= has_filing & ((_ints(valid_from, -1) == -1) & _bools(pc.is_null(valid_from)))
    bad |= has_filing & (dest_codes < 0)
    filing_valid = (
        has_filing
        & (_ints(valid_from, _FAR) <= days)
        & (days <= _ints(_array(claims, "filing_valid_to"), _FAR))
    )
    covers = has_filing & _covers(dest_codes, dest_values, treated_codes, treated_values)
    emergency = _bools(_raw(claims, "emergency"))
    status = np.where(
        local,
        0,
        np.where(filing_valid & covers, np.where(long_term, 1, 2), np.where(emergency, 2, 3)),
    ).astype(np.int8)

    liability_codes, liability_values = _codes(_raw(claims, "liability"))
    scheme_codes, scheme_values = _codes(_raw(claims, "scheme"))
    return _Claims(
        n=n,
        person=np.zeros(0, np.int64),
        persons=[],
        group=np.zeros(0, np.int64),
        n_groups=0,
        days=days,
        year=year,
        setting=setting.astype(np.int8),
        level=level,
        status=status,
        excluded=_lookup(
            liability_codes,
            np.array([v in EXCLUDING_LIABILITIES for v in liability_values], np.bool_),
            False,
        ),
        recoverable=_lookup(
            liability_codes,
            np.array([v == "third_party_unresolved" for v in liability_values], np.bool_),
            False,
        ),
        assistance_eligible=_bools(_raw(claims, "assistance_eligible")),
        resident=_lookup(
            scheme_codes, np.array([v == "resident" for v in scheme_values], np.bool_), False
        ),
        balance=_ints(_array(claims, "account_balance_fen"), 0),
        bad=bad,
        region_codes=treated_codes,
        regions=treated_values,
        has_filing=has_filing,
        filing_valid=filing_valid,
        long_term=long_term,
        local=local,
        insured_codes=insured_codes,
        insured_values=insured_values,
        scheme_codes=scheme_codes,
        scheme_values=scheme_values,
    )


def _covers(dest_codes: I64, dests: list[Any], treated_codes: I64, treated: list[Any]) -> BOOL:
    """``FilingInfo.covers_region`` per row: worked out once per (destination, region)."""
    if not dests or not treated:
        return np.zeros(len(dest_codes), np.bool_)
    if len(dests) * len(treated) > 10_000_000:
        cells = np.unique(dest_codes * len(treated) + treated_codes)
        table = {
            int(cell): _covers_one(dests[cell // len(treated)], treated[cell % len(treated)])
            for cell in cells.tolist()
            if cell >= 0
        }
        keys = dest_codes * len(treated) + treated_codes
        return np.array([table.get(int(k), False) for k in keys.tolist()], np.bool_)
    province = np.array([d.endswith("0000") for d in dests], np.bool_)
    prefixes: dict[str, int] = {}
    dest_prefix = np.array([prefixes.setdefault(d[:2], len(prefixes)) for d in dests])
    treated_prefix = np.array([prefixes.setdefault(t[:2], len(prefixes)) for t in treated])
    names: dict[str, int] = {}
    dest_name = np.array([names.setdefault(d, len(names)) for d in dests])
    treated_name = np.array([names.setdefault(t, len(names)) for t in treated])
    table = (dest_name[:, None] == treated_name[None, :]) | (
        province[:, None] & (dest_prefix[:, None] == treated_prefix[None, :])
    )
    flat = np.append(table.ravel(), False)
    cell = np.where(dest_codes >= 0, dest_codes * len(treated) + treated_codes, len(flat) - 1)
    return np.asarray(flat[cell], dtype=np.bool_)


def _covers_one(dest: str, region: str) -> bool:
    return dest == region or (dest.endswith("0000") and region[:2] == dest[:2])


# --- policy choice ------------------------------------------------------------------------


@dataclass
class _Choice:
    policy: I64  # -1: none
    rejected: BOOL
    kind: npt.NDArray[np.int8]
    combo: I64
    combos: list[tuple[str, str, str]]
    candidates: list[list[int]]


def _choose(claims: pa.Table, c: _Claims, policies: Sequence[Policy], pol: PolicyArrays) -> _Choice:
    region, regions = c.insured_codes, c.insured_values
    scheme, schemes = c.scheme_codes, c.scheme_values
    ptype, ptypes = _codes(_raw(claims, "person_type"))
    raw = (region * max(1, len(schemes)) + scheme) * max(1, len(ptypes)) + ptype
    combo, unique = _dense_ids(raw)
    index: dict[tuple[str, str, str], list[int]] = {}
    for k, policy in enumerate(policies):
        for person_type in policy.person_types:
            index.setdefault((policy.region, policy.scheme, person_type), []).append(k)
    combos: list[tuple[str, str, str]] = []
    candidates: list[list[int]] = []
    for value in unique:
        rest, t = divmod(value, max(1, len(ptypes)))
        r, s = divmod(rest, max(1, len(schemes)))
        key = (regions[r], schemes[s], ptypes[t])
        combos.append(key)
        candidates.append(index.get(key, []))
    width = max([len(cands) for cands in candidates] or [1]) or 1
    table = np.full((len(candidates), width), NONE, np.int64)
    for k, cands in enumerate(candidates):
        table[k, : len(cands)] = cands
    starts = np.array([_day_number(p.effective_from) for p in policies] + [0], np.int64)
    ends = np.array([_day_number(p.effective_to) for p in policies] + [0], np.int64)
    count = np.zeros(c.n, np.int64)
    chosen = np.full(c.n, NONE, np.int64)
    for j in range(width):
        p = table[combo, j]
        covered = (p >= 0) & (starts[p] <= c.days) & (c.days <= ends[p])
        count += covered
        chosen = np.where(covered, p, chosen)
    chosen = np.where(count == 1, chosen, NONE)
    one = count == 1
    safe = np.where(one, chosen, 0)
    has_rules = pol.has_rules[safe, c.setting] & one
    suspended = (
        has_rules & c.local & c.has_filing & c.long_term & c.filing_valid & ~pol.home_benefits[safe]
    )
    kind = np.zeros(c.n, np.int8)
    kind[count == 0] = NO_POLICY
    kind[count > 1] = SEVERAL
    kind[one & ~has_rules] = NO_RULES
    kind[suspended] = HOME_SUSPENDED
    c.bad |= one & ~pol.exact[safe]
    return _Choice(
        policy=chosen,
        rejected=kind > 0,
        kind=kind,
        combo=combo,
        combos=combos,
        candidates=candidates,
    )


def _reasons(
    claims: pa.Table, c: _Claims, choice: _Choice, policies: Sequence[Policy], dictionary: bool
) -> tuple[pa.Array, int]:
    """The reason of every rejected claim, in the scalar engine's words."""
    rows = np.nonzero(choice.rejected & ~c.bad)[0]
    if len(rows) == 0:
        return pa.nulls(c.n, TEXT if dictionary else pa.string()), 0
    ftypes = _array(claims, "filing_type").take(pa.array(rows)).to_pylist()
    dests = _array(claims, "filing_destination").take(pa.array(rows)).to_pylist()
    texts: dict[str, int] = {}
    codes = np.full(c.n, NONE, np.int64)
    for k, row in enumerate(rows.tolist()):
        kind = int(choice.kind[row])
        if kind == NO_POLICY:
            region, scheme, ptype = choice.combos[choice.combo[row]]
            text = (
                f"no policy for region {region}, scheme {scheme}, "
                f"person type {ptype} on {_day(c.days[row]).isoformat()}"
            )
        elif kind == SEVERAL:
            day = _day(c.days[row])
            ids = ", ".join(
                sorted(
                    policies[p].id
                    for p in choice.candidates[choice.combo[row]]
                    if policies[p].covers(day)
                )
            )
            text = f"several policies match ({ids}); the policy data is ambiguous"
        elif kind == NO_RULES:
            setting = "inpatient" if c.setting[row] == 0 else "outpatient"
            text = f"policy {policies[choice.policy[row]].id} has no {setting} rules"
        else:
            text = (
                f"local treatment while a long-term {ftypes[k]} filing to {dests[k]} "
                f"is valid; policy {policies[choice.policy[row]].id} suspends home "
                f"benefits while filed off-site"
            )
        codes[row] = texts.setdefault(text, len(texts))
    return _coded(pa.array(list(texts), pa.string()), codes, dictionary), len(rows)


# --- year-to-date ---------------------------------------------------------------------------


@dataclass
class _YearToDate:
    row: I64
    state: I64
    supp: I64
    present: BOOL


def _year_to_date(claims: pa.Table, c: _Claims, names: list[str]) -> tuple[I64, list[Any]]:
    """Rows of year-to-date texts (-1: none) and the parsed states (None: not exact)."""
    text_codes, texts = _codes(_array(claims, "year_to_date"))
    parsed: list[Any] = []
    known = set(names)
    for text in texts:
        try:
            acc = ytd_from_json(text, 2000)
        except (ValueError, TypeError, AttributeError, ArithmeticError):
            parsed.append(None)
            continue
        values = [
            fen_of(v)
            for v in (
                acc.inpatient.in_scope_cum,
                acc.inpatient.deductible_met,
                acc.inpatient.pool_paid_cum,
                Decimal(acc.inpatient.admissions),
                acc.outpatient.in_scope_cum,
                acc.outpatient.deductible_met,
                acc.outpatient.pool_paid_cum,
                Decimal(acc.outpatient.admissions),
                acc.assistance_paid_cum,
            )
        ]
        supp = {
            name: (fen_of(s.base_cum), fen_of(s.paid_cum)) for name, s in acc.supplementary.items()
        }
        if any(v is None for v in values) or any(a is None or b is None for a, b in supp.values()):
            parsed.append(None)
            continue
        for name in supp:
            if name not in known:
                known.add(name)
                names.append(name)
        parsed.append((values, supp))
    return text_codes, parsed


def _ytd_arrays(text_codes: I64, parsed: list[Any], names: list[str], c: _Claims) -> _YearToDate:
    n_names = len(names)
    width = max(1, n_names)
    state = np.zeros((max(1, len(parsed)), 9), np.int64)
    supp = np.zeros((max(1, len(parsed)), 2 * width), np.int64)
    present = np.zeros((max(1, len(parsed)), width), np.bool_)
    where = {name: k for k, name in enumerate(names)}
    for r, item in enumerate(parsed):
        if item is None:
            continue
        values, by_name = item
        state[r] = values
        # admissions are counts, not fen: fen_of took them × 100
        state[r, 3] //= 100
        state[r, 7] //= 100
        for name, (base, paid) in by_name.items():
            k = where[name]
            supp[r, 2 * k] = base
            supp[r, 2 * k + 1] = paid
            present[r, k] = True
    bad_text = np.array([item is None for item in parsed] + [False], np.bool_)
    c.bad |= (text_codes >= 0) & bad_text[text_codes]
    return _YearToDate(row=text_codes, state=state, supp=supp, present=present)


# --- lines ----------------------------------------------------------------------------------


@dataclass
class _Lines:
    claim_row: I64
    item: I64
    quantity: I64
    price: I64
    item_class: npt.NDArray[np.int8]
    item_settings: npt.NDArray[np.int8]
    item_min_level: npt.NDArray[np.int8]
    item_ceiling: I64
    item_spr: I64
    spr_den: int
    code: I64  # each line's code as an index into ``codes``
    codes: list[Any]


def _lines(lines: pa.Table, c: _Claims, catalog: Catalog) -> _Lines:
    claim_row = _ints(_array(lines, "claim_row"), -1)
    if len(claim_row) and (claim_row.min() < 0 or claim_row.max() >= c.n):
        raise ValueError(
            f"lines: claim_row must be a row of the claims table (0..{c.n - 1}); "
            f"found {int(claim_row.min())}..{int(claim_row.max())}"
        )
    code_codes, codes = _codes(_raw(lines, "code"))
    region_of_line = c.region_codes[claim_row]
    n_regions, n_codes = len(c.regions), max(1, len(codes))
    code_index = {code: k for k, code in enumerate(codes)}
    region_index = {region: k for k, region in enumerate(c.regions)}
    found: dict[int, Any] = {}
    if n_regions * n_codes <= 50_000_000:
        table = np.full(n_regions * n_codes, NONE, np.int64)
        for (region, code), entry in catalog.items.items():
            r = region_index.get(region)
            k = code_index.get(code) if r is not None else None
            if r is not None and k is not None:
                table[r * n_codes + k] = len(found)
                found[len(found)] = entry
        item = table[region_of_line * n_codes + code_codes]
    else:
        pairs, inverse = np.unique(region_of_line * n_codes + code_codes, return_inverse=True)
        mapped = np.full(len(pairs), NONE, np.int64)
        for k, pair in enumerate(pairs.tolist()):
            r, cc = divmod(pair, n_codes)
            hit = catalog.items.get((c.regions[r], codes[cc]))
            if hit is not None:
                mapped[k] = len(found)
                found[len(found)] = hit
        item = mapped[inverse]
    unknown = np.nonzero(item < 0)[0]
    if len(unknown):
        _raise_unknown(claim_row, unknown, code_codes, codes, c)

    items = [found[k] for k in range(len(found))] or [None]
    spr_places = max(
        [places(x.self_pay_ratio) for x in items if x is not None and x.item_class == "B"] or [0]
    )
    count = len(items)
    item_class = np.zeros(count, np.int8)
    item_settings = np.zeros(count, np.int8)
    item_min_level = np.zeros(count, np.int8)
    item_ceiling = np.full(count, NONE, np.int64)
    item_spr = np.zeros(count, np.int64)
    item_bad = np.zeros(count, np.bool_)
    for k, x in enumerate(items):
        if x is None:
            continue
        item_class[k] = {"A": 0, "B": 1}.get(x.item_class, 2)
        item_settings[k] = ("inpatient" in x.settings) | (("outpatient" in x.settings) << 1)
        if x.min_level is not None:
            item_min_level[k] = max(-1, min(int(x.min_level), 100))
            item_bad[k] |= not 1 <= x.min_level <= 100
        if x.price_ceiling is not None:
            scaled = x.price_ceiling * 10_000
            if scaled != scaled.to_integral_value() or scaled < 0 or scaled > 10**15:
                item_bad[k] = True
            else:
                item_ceiling[k] = int(scaled)
        if x.item_class == "B":
            ratio = x.self_pay_ratio
            if not Decimal(0) <= ratio <= Decimal(1) or spr_places > MAX_PLACES:
                item_bad[k] = True
            else:
                item_spr[k] = int(ratio.scaleb(spr_places))
    c.bad[claim_row[item_bad[item]]] = True
    return _Lines(
        claim_row=claim_row,
        item=item,
        quantity=_ints(_array(lines, "quantity_e4"), 0),
        price=_ints(_array(lines, "unit_price_e4"), 0),
        item_class=item_class,
        item_settings=item_settings,
        item_min_level=item_min_level,
        item_ceiling=item_ceiling,
        item_spr=item_spr,
        spr_den=10**spr_places,
        code=code_codes,
        codes=codes,
    )


def _raise_unknown(
    claim_row: I64, unknown: I64, code_codes: I64, codes: list[Any], c: _Claims
) -> None:
    """The scalar engine's error: the first claim (in run order) with an unknown code, its
    first such line."""
    first_claim = int(claim_row[unknown].min())
    positions = np.nonzero(claim_row == first_claim)[0]
    bad_positions = set(unknown[claim_row[unknown] == first_claim].tolist())
    for index, position in enumerate(positions.tolist()):
        if position in bad_positions:
            region = c.regions[c.region_codes[first_claim]]
            raise UnknownCatalogCode(index, codes[code_codes[position]], region)


# --- results --------------------------------------------------------------------------------


def _dense_ids(patterns: I64) -> tuple[I64, list[int]]:
    """Each row's pattern as a small id, and the distinct patterns (ascending)."""
    low = int(patterns.min()) if len(patterns) else 0
    high = int(patterns.max()) if len(patterns) else 0
    if high - low < 1 << 20:
        used = np.zeros(high - low + 1, np.bool_)
        used[patterns - low] = True
        values = np.nonzero(used)[0]
        lookup = np.zeros(high - low + 1, np.int64)
        lookup[values] = np.arange(len(values))
        return lookup[patterns - low], (values + low).tolist()
    unique, inverse = np.unique(patterns, return_inverse=True)
    return inverse.astype(np.int64), unique.tolist()


Template = list[tuple[str, int]]  # (literal, value column written after it, or -1)


def _text_column(templates: list[Template], template_of_row: I64, values: I64) -> pa.Array:
    """One JSON text per row, written by the compiled :func:`text_write`."""
    n = len(template_of_row)
    seg_start = np.zeros(len(templates) + 1, np.int64)
    literals: list[bytes] = []
    cols: list[int] = []
    for t, template in enumerate(templates):
        for literal, col in template:
            literals.append(literal.encode())
            cols.append(col)
        seg_start[t + 1] = len(cols)
    lit_off = np.zeros(len(literals) + 1, np.int64)
    lit_off[1:] = np.cumsum([len(b) for b in literals])
    lit_bytes = np.frombuffer(b"".join(literals) or b" ", np.uint8)
    seg_col = np.array(cols or [-1], np.int64)
    lengths = np.zeros(n, np.int64)
    text_lengths(template_of_row, seg_start, lit_off, seg_col, values, lengths)
    ends = np.cumsum(lengths)
    chunks: list[pa.Array] = []
    first = 0
    while first < n or not chunks:
        base = int(ends[first - 1]) if first else 0
        last = int(np.searchsorted(ends, base + _CHUNK_BYTES, side="right"))
        last = max(last, first + 1) if n else 0
        size = int(ends[last - 1]) - base if last else 0
        offsets = np.zeros(last - first + 1, np.int32)
        data = np.zeros(max(1, size), np.uint8)
        text_write(
            template_of_row, seg_start, lit_off, lit_bytes, seg_col, values, first, offsets, data
        )
        chunks.append(
            pa.Array.from_buffers(
                pa.string(), last - first, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
            )
        )
        first = last
    return chunks[0] if len(chunks) == 1 else pa.chunked_array(chunks, pa.string())


_CHUNK_BYTES = (1 << 31) - (1 << 20)


def _name_json(name: str) -> str:
    return json.dumps(name, ensure_ascii=False)


def _acc_supplementary(present: BOOL, supp: I64, names: list[str], n: int) -> pa.Array:
    n_names = len(names)
    if n_names == 0 or n_names > 62:
        return _acc_supplementary_slow(present, supp, names)
    weights = (np.int64(1) << np.arange(n_names, dtype=np.int64)).astype(np.int64)
    ids, patterns = _dense_ids(present[:, :n_names].astype(np.int64) @ weights)
    templates: list[Template] = []
    for pattern in patterns:
        ks = sorted((k for k in range(n_names) if pattern >> k & 1), key=lambda k: names[k])
        template: Template = []
        prefix = "{"
        for m, k in enumerate(ks):
            head = prefix + ("," if m else "") + _name_json(names[k])
            template.append((head + ':{"base_cum":"', 2 * k))
            template.append(('","paid_cum":"', 2 * k + 1))
            prefix = '"}'
        template.append((prefix + "}", -1))
        templates.append(template)
    return _text_column(templates, ids, supp)


def _acc_supplementary_slow(present: BOOL, supp: I64, names: list[str]) -> pa.Array:
    from .columnar_convert import supplementary_json

    out = []
    for i in range(present.shape[0]):
        out.append(
            supplementary_json(
                {
                    names[k]: (int(supp[i, 2 * k]), int(supp[i, 2 * k + 1]))
                    for k in np.nonzero(present[i, : len(names)])[0].tolist()
                }
            )
        )
    return pa.array(out, pa.string())


def _by_name(
    choice: _Choice, c: _Claims, pol: PolicyArrays, by_name: I64, names: list[str]
) -> pa.Array:
    ids, patterns = _dense_ids(
        np.where(choice.rejected, -1, np.maximum(choice.policy, 0) * 2 + c.setting)
    )
    templates: list[Template] = []
    for pattern in patterns:
        if pattern < 0 or pattern // 2 >= len(pol.by_name_order):
            templates.append([("{}", -1)])
            continue
        template: Template = []
        prefix = "{"
        for m, k in enumerate(pol.by_name_order[pattern // 2][pattern % 2]):
            template.append((prefix + ("," if m else "") + _name_json(names[k]) + ':"', k))
            prefix = '"'
        template.append((prefix + "}", -1))
        templates.append(template)
    return _text_column(templates, ids, by_name)


def _coded(values: pa.Array, codes: npt.NDArray[Any], dictionary: bool) -> pa.Array:
    """``values[code]`` per row (null where the code is negative): a dictionary array over
    ``values``, or plain text."""
    negative = codes < 0
    indices = pa.array(codes.astype(np.int32), mask=negative if negative.any() else None)
    if dictionary:
        return pa.DictionaryArray.from_arrays(indices, values)
    return values.take(indices)


def _claims_text(table: pa.Table, name: str, dictionary: bool) -> pa.Array:
    """A text column of the claims as plain text, or as a dictionary (kept as it is when
    it is one already)."""
    if not dictionary:
        return _string_column(table, name)
    array = _raw(table, name)
    if array.type == TEXT:
        return array
    if pa.types.is_dictionary(array.type):
        return array.cast(TEXT)
    if array.type != pa.string():
        array = array.cast(pa.string())
    return pc.dictionary_encode(array)


def _string_column(table: pa.Table, name: str) -> pa.Array:
    array = _array(table, name)
    return array if array.type == pa.string() else array.cast(pa.string())


def _schemas(dictionary: bool) -> tuple[pa.Schema, pa.Schema]:
    if dictionary:
        return RESULT_SCHEMA_DICTIONARY, RESULT_LINE_SCHEMA_DICTIONARY
    return RESULT_SCHEMA, RESULT_LINE_SCHEMA


def _empty(dictionary: bool) -> tuple[pa.Table, pa.Table]:
    results, lines = _schemas(dictionary)
    return results.empty_table(), lines.empty_table()


# --- the whole ------------------------------------------------------------------------------


def settle_fast(
    claims: pa.Table,
    lines: pa.Table,
    *,
    catalog: Catalog,
    policies: Sequence[Policy],
    report: dict[str, int] | None = None,
    dictionary_text: bool = False,
    threads: int | None = None,
) -> tuple[pa.Table, pa.Table]:
    """See :func:`yibao.engine.columnar.settle_tables`; ``report`` (when given) receives
    ``claims``, ``scalar_claims`` (rows settled by the scalar engine) and ``scalar_persons``."""
    missing = [name for name in CLAIM_SCHEMA.names if name not in claims.column_names]
    missing += [f"lines.{name}" for name in LINE_SCHEMA.names if name not in lines.column_names]
    if missing:
        raise ValueError(f"claims/lines tables miss column(s): {', '.join(missing)}")
    for table, schema, what in ((claims, CLAIM_SCHEMA, "claims"), (lines, LINE_SCHEMA, "lines")):
        for fld in schema:
            if not fld.nullable and table.column(fld.name).null_count:
                raise ValueError(f"{what}.{fld.name} must not be null")
    if claims.num_rows == 0:
        return _empty(dictionary_text)
    parts = _scan_threads(claims.num_rows, threads)
    c = _claims(claims, parts > 1)
    names: list[str] = []
    text_codes, parsed = _year_to_date(claims, c, names)
    pol = encode_policies(policies, names)
    ytd = _ytd_arrays(text_codes, parsed, names, c)
    choice = _choose(claims, c, policies, pol)
    ln = _lines(lines, c, catalog)

    safe_policy = np.maximum(choice.policy, 0)
    claim_extra = np.where(choice.rejected, 0, pol.extra[safe_policy, c.status]).astype(np.int64)
    out_lines = np.zeros((len(ln.claim_row), 5), np.int64, order="F")
    sums = np.zeros((c.n, 5), np.int64)
    settle_lines(
        ln.claim_row,
        ln.item,
        ln.quantity,
        ln.price,
        ln.item_class,
        ln.item_settings,
        ln.item_min_level,
        ln.item_ceiling,
        ln.item_spr,
        ln.spr_den,
        c.setting,
        c.level,
        c.excluded,
        claim_extra,
        pol.extra_den,
        out_lines,
        sums,
        c.bad,
    )

    n_names = max(1, len(names))
    out_money = np.zeros((c.n, MONEY_WIDTH), np.int64, order="F")
    out_acc = np.zeros((c.n, STATE_WIDTH), np.int64, order="F")
    out_supp = np.zeros((c.n, 2 * n_names), np.int64)
    out_present = np.zeros((c.n, n_names), np.bool_)
    out_by_name = np.zeros((c.n, n_names), np.int64)
    person_bad = np.zeros(max(1, len(c.persons)), np.bool_)
    supp_up = pol.supp_up
    args = (
        c.group,
        c.person,
        ytd.row,
        choice.rejected,
        safe_policy,
        c.setting,
        c.level,
        c.status,
        c.excluded,
        c.recoverable,
        c.assistance_eligible,
        c.resident,
        c.balance,
        sums,
        c.bad,
        ytd.state,
        ytd.supp if ytd.supp.shape[1] == 2 * n_names else _widen(ytd.supp, 2 * n_names),
        ytd.present if ytd.present.shape[1] == n_names else _widen(ytd.present, n_names),
        pol.has_rules,
        pol.ded_per_admission,
        pol.ded_amount,
        pol.ded_level,
        pol.ded_later,
        pol.per_claim_basis,
        pol.cap,
        pol.band_count,
        pol.band_up,
        pol.band_rate,
        pol.rate_den,
        pol.supp_count,
        pol.supp_name,
        pol.supp_settings,
        pol.supp_threshold,
        pol.supp_band_count,
        supp_up,
        pol.supp_rate,
        pol.supp_cap,
        pol.has_assistance,
        pol.assistance_rate,
        pol.assistance_cap,
        pol.account_pays,
        np.zeros((c.n_groups, STATE_WIDTH), np.int64),
        np.zeros((c.n_groups, 2 * n_names), np.int64),
        np.zeros((c.n_groups, n_names), np.bool_),
        np.zeros(c.n_groups, np.bool_),
        out_money,
        out_acc,
        out_supp,
        out_present,
        out_by_name,
        person_bad,
    )
    if parts == 1:
        settle_claims(*args, 0, 1)
    else:
        with ThreadPoolExecutor(max_workers=parts, thread_name_prefix="yibao-scan") as pool:
            done = [pool.submit(settle_claims, *args, part, parts) for part in range(parts)]
        for future in done:
            future.result()
    fallback = person_bad[c.person]
    if report is not None:
        report["claims"] = c.n
        report["scalar_claims"] = int(fallback.sum())
        report["scalar_persons"] = int(person_bad.sum())
    keep = ~choice.rejected & ~fallback
    with _Tasks(parts > 1) as tasks:
        # the result lines and the accumulators' texts on a second thread while this one
        # assembles the other columns of the results
        line_task = tasks.run(_line_table, ln, out_lines, keep, dictionary_text)
        acc_task = tasks.run(_acc_supplementary, out_present, out_supp, names, c.n)
        reasons, _ = _reasons(claims, c, choice, policies, dictionary_text)
        results = _result_table(
            claims,
            c,
            choice,
            policies,
            pol,
            names,
            reasons,
            out_money,
            out_acc,
            acc_task,
            out_by_name,
            dictionary_text,
        )
    result_lines, ordered = line_task()
    if fallback.any():
        results, result_lines = _with_fallback(
            claims, lines, results, result_lines, fallback, ln.claim_row, catalog, policies
        )
    elif not ordered:
        order = np.argsort(result_lines.column("claim_row").to_numpy(), kind="stable")
        result_lines = result_lines.take(pa.array(order))
    return results, result_lines


def _scan_threads(n: int, threads: int | None = None) -> int:
    """Threads for the claim scan, a power of two: ``threads`` when given, else one per core
    (at most ``MAX_SCAN_THREADS``) on a large table and one on a small one (starting
    threads would cost more than it saves)."""
    if threads is None:
        threads = 1 if n < PARALLEL_CLAIMS else min(MAX_SCAN_THREADS, _cores())
    return 1 << (max(1, threads).bit_length() - 1)


def _cores() -> int:
    """The cores this process may run on (its affinity, as Numba counts them)."""
    config: Any = numba.config  # set up at import from the environment: no static types
    return max(1, int(config.NUMBA_DEFAULT_NUM_THREADS))


def _widen(array: npt.NDArray[Any], width: int) -> npt.NDArray[Any]:
    out = np.zeros((array.shape[0], width), array.dtype)
    out[:, : array.shape[1]] = array
    return out


def _result_table(
    claims: pa.Table,
    c: _Claims,
    choice: _Choice,
    policies: Sequence[Policy],
    pol: PolicyArrays,
    names: list[str],
    reasons: pa.Array,
    out_money: I64,
    out_acc: I64,
    acc_supplementary: Callable[[], pa.Array],
    out_by_name: I64,
    dictionary: bool,
) -> pa.Table:
    columns: dict[str, Any] = {}
    columns["claim_id"] = _string_column(claims, "claim_id")
    columns["status"] = _coded(
        pa.array(["settled", "rejected"], pa.string()), choice.rejected, dictionary
    )
    columns["reason"] = reasons
    columns["offsite_status"] = _coded(pa.array(list(STATUSES), pa.string()), c.status, dictionary)
    ids = pa.array([p.id for p in policies] or [""], pa.string())
    columns["policy_id"] = _coded(ids, choice.policy, dictionary)
    for k, name in enumerate(MONEY_FIELDS):
        columns[f"{name}_fen"] = pa.array(out_money[:, k])
    columns["person_id"] = _string_column(claims, "person_id")
    for name in ("setting", "insured_region", "scheme", "person_type", "institution_region"):
        columns[name] = _claims_text(claims, name, dictionary)
    columns["date"] = _array(claims, "date")
    columns["acc_year"] = pa.array(c.year.astype(np.int32))
    acc_names = (
        "acc_ip_in_scope_cum_fen",
        "acc_ip_deductible_met_fen",
        "acc_ip_pool_paid_cum_fen",
        "acc_ip_admissions",
        "acc_op_in_scope_cum_fen",
        "acc_op_deductible_met_fen",
        "acc_op_pool_paid_cum_fen",
        "acc_op_admissions",
        "acc_assistance_paid_cum_fen",
    )
    for k, name in enumerate(acc_names):
        values = out_acc[:, k]
        columns[name] = pa.array(values.astype(np.int32) if name.endswith("admissions") else values)
    columns["supplementary_by_name"] = _by_name(choice, c, pol, out_by_name, names)
    columns["acc_supplementary"] = acc_supplementary()
    schema = _schemas(dictionary)[0]
    return pa.Table.from_arrays([columns[name] for name in schema.names], schema=schema)


def _line_table(
    ln: _Lines, out_lines: I64, keep_claim: BOOL, dictionary: bool
) -> tuple[pa.Table, bool]:
    """The result lines of the kept claims, and whether they are in claim order already."""
    n = len(ln.claim_row)
    sel_claim = np.empty(n, np.int64)
    sel_code = np.empty(n, np.int64)
    # out_lines (one column per figure) is compacted in place
    m, ordered = select_lines(ln.claim_row, keep_claim, ln.code, out_lines, sel_claim, sel_code)
    codes = pa.array(ln.codes or [""], pa.string())
    arrays: list[pa.Array] = [
        pa.array(sel_claim[:m]),
        _coded(codes, sel_code[:m], dictionary),
        *(pa.array(out_lines[:m, k]) for k in range(len(LINE_FIELDS))),
    ]
    return pa.Table.from_arrays(arrays, schema=_schemas(dictionary)[1]), bool(ordered)


def _with_fallback(
    claims: pa.Table,
    lines: pa.Table,
    results: pa.Table,
    result_lines: pa.Table,
    fallback: BOOL,
    claim_row: I64,
    catalog: Catalog,
    policies: Sequence[Policy],
) -> tuple[pa.Table, pa.Table]:
    """Persons the fast path could not carry exactly, settled by ``settle_run``."""
    rows = np.nonzero(fallback)[0]
    renumber = np.full(claims.num_rows, NONE, np.int64)
    renumber[rows] = np.arange(len(rows))
    line_rows = np.nonzero(fallback[claim_row])[0]
    sub_lines = lines.select(LINE_SCHEMA.names).take(pa.array(line_rows))
    sub_lines = sub_lines.set_column(0, "claim_row", pa.array(renumber[claim_row[line_rows]]))
    sub_claims = claims.select(CLAIM_SCHEMA.names).take(pa.array(rows))
    built = tables_to_claims(sub_claims, sub_lines)
    settled = settle_run(built, policies=policies, catalog=catalog)
    slow, slow_lines = results_from_settlements(built, settled, rows=rows.tolist())
    slow, slow_lines = slow.cast(results.schema), slow_lines.cast(result_lines.schema)

    kept = np.nonzero(~fallback)[0]
    merged = pa.concat_tables([results.take(pa.array(kept)), slow])
    where = np.empty(claims.num_rows, np.int64)
    where[np.concatenate([kept, rows])] = np.arange(claims.num_rows)
    merged = merged.take(pa.array(where))
    all_lines = pa.concat_tables([result_lines, slow_lines])
    order = np.argsort(all_lines.column("claim_row").to_numpy(), kind="stable")
    return merged, all_lines.take(pa.array(order))
