"""The columnar engine's two compiled loops: the lines, then the claims in run order.

Whole fen in int64 throughout. A ratio is an integer numerator over a power of ten, so a
product is exact and ``round2`` (half up) is one integer division: ``(a + d // 2) // d``
for ``a >= 0``. Every product is checked against overflow first; a claim that would
overflow is marked and its person is settled by the scalar engine instead.

Compiled by Numba (``cache=True``: the machine code is kept beside the source after the
first run). Pure functions over arrays: no I/O, no objects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt

F = TypeVar("F", bound=Callable[..., Any])
I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
B = npt.NDArray[np.bool_]

MAX_I64 = np.int64(9_223_372_036_854_775_807)
# No state value (a year's cumulative amount) may pass this; beyond it the person goes to
# the scalar engine, so sums of such values never come near int64's limit.
STATE_LIMIT = np.int64(10**16)
NONE = -1  # an absent cap, ceiling or unbounded band end

# indices of a year's state (per person and year) and of the accumulators after a claim
IP_IN, IP_DED, IP_POOL, IP_ADM, OP_IN, OP_DED, OP_POOL, OP_ADM, ASSIST = range(9)
STATE_WIDTH = 9
# indices of the money results of a claim (the contract's order)
(
    M_TOTAL,
    M_FULL,
    M_OVER,
    M_PRE,
    M_SCOPE,
    M_DED,
    M_POOL,
    M_SUPP,
    M_ASSIST,
    M_FUND,
    M_BURDEN,
    M_ACCOUNT,
    M_CASH,
    M_RECOVERABLE,
) = range(14)
MONEY_WIDTH = 14
# account parts (bits of a policy's account mask)
PAYS_SCOPE, PAYS_PRE, PAYS_OVER, PAYS_FULL = 1, 2, 4, 8


def _compiled(fn: F) -> F:
    return cast(F, numba.njit(cache=True, nogil=True)(fn))


def _inlined(fn: F) -> F:
    return cast(F, numba.njit(cache=True, nogil=True, inline="always")(fn))


@_inlined
def _round_half_up(a: int, d: int) -> int:
    """round2 of ``a / d`` for ``a >= 0`` and ``d`` a power of ten."""
    if d == 1:
        return a
    return (a + d // 2) // d


@_inlined
def _fits(a: int, b: int) -> bool:
    """Whether ``a * b`` fits in int64 (both non-negative)."""
    return bool(b == 0 or a <= MAX_I64 // b)


@_compiled
def settle_lines(
    line_claim: I64,
    line_item: I64,
    quantity_e4: I64,
    unit_price_e4: I64,
    item_class: I8,
    item_settings: I8,
    item_min_level: I8,
    item_ceiling_e4: I64,
    item_spr: I64,
    spr_den: int,
    claim_setting: I8,
    claim_level: I64,
    claim_excluded: B,
    claim_extra: I64,
    extra_den: int,
    out_lines: I64,
    out_sums: I64,
    claim_bad: B,
) -> None:
    """Steps 1-5 of every line; ``out_lines[k]`` = amount, full, over, pre, in-scope of
    line k and ``out_sums[i]`` the same summed over claim i's lines."""
    for k in range(line_claim.shape[0]):
        i = line_claim[k]
        q = quantity_e4[k]
        p = unit_price_e4[k]
        it = line_item[k]
        if q < 0 or p < 0 or not _fits(q, p):
            claim_bad[i] = True
            continue
        amount = _round_half_up(q * p, 1_000_000)
        cls = item_class[it]
        setting_bit = 1 << claim_setting[i]
        min_level = item_min_level[it]
        full = 0
        over = 0
        pre = 0
        scope = 0
        if (
            claim_excluded[i]
            or cls == 2
            or (item_settings[it] & setting_bit) == 0
            or (min_level > 0 and claim_level[i] < min_level)
        ):
            full = amount
        else:
            ceiling = item_ceiling_e4[it]
            base = amount
            if ceiling != NONE and p > ceiling:
                over = amount - _round_half_up(q * ceiling, 1_000_000)
                base = amount - over
            if cls == 1:
                ratio = item_spr[it]
                if not _fits(base, ratio):
                    claim_bad[i] = True
                    continue
                pre = _round_half_up(base * ratio, spr_den)
            scope = base - pre
            extra_ratio = claim_extra[i]
            if extra_ratio != 0:
                if not _fits(scope, extra_ratio):
                    claim_bad[i] = True
                    continue
                extra = _round_half_up(scope * extra_ratio, extra_den)
                pre += extra
                scope -= extra
        out_lines[k, 0] = amount
        out_lines[k, 1] = full
        out_lines[k, 2] = over
        out_lines[k, 3] = pre
        out_lines[k, 4] = scope
        out_sums[i, 0] += amount
        out_sums[i, 1] += full
        out_sums[i, 2] += over
        out_sums[i, 3] += pre
        out_sums[i, 4] += scope
        if out_sums[i, 0] > STATE_LIMIT:
            claim_bad[i] = True


@_compiled
def settle_claims(
    # per claim, in run order
    group: I64,
    person: I64,
    ytd_row: I64,
    rejected: B,
    policy: I64,
    setting: I8,
    level: I64,
    status: I8,
    excluded: B,
    recoverable: B,
    assistance_eligible: B,
    resident: B,
    balance: I64,
    sums: I64,
    claim_bad: B,
    # year-to-date starting states
    ytd_state: I64,
    ytd_supp: I64,
    ytd_present: B,
    # policies: [policy, setting] ...
    has_rules: B,
    ded_per_admission: B,
    ded_amount: I64,
    ded_level: I64,
    ded_later: I64,
    per_claim_basis: B,
    cap: I64,
    band_count: I64,
    band_up: I64,
    band_rate: I64,
    rate_den: int,
    # supplementary items: [policy, item] ...
    supp_count: I64,
    supp_name: I64,
    supp_settings: I8,
    supp_threshold: I64,
    supp_band_count: I64,
    supp_up: I64,
    supp_rate: I64,
    supp_cap: I64,
    # assistance and account: [policy]
    has_assistance: B,
    assistance_rate: I64,
    assistance_cap: I64,
    account_pays: I64,
    # state per person and year
    state: I64,
    state_supp: I64,
    state_present: B,
    state_ready: B,
    # results
    out_money: I64,
    out_acc: I64,
    out_supp: I64,
    out_present: B,
    out_by_name: I64,
    person_bad: B,
    part: int,
    parts: int,
) -> None:
    """The claim steps 2-8 in run order, each person's year carried in ``state``.

    Only the claims of persons ``person & (parts - 1) == part`` (``parts`` a power of two):
    no state crosses persons, so ``parts`` threads (the loop releases the GIL) each settle
    their own persons in run order and write their own rows, and the result is that of one
    pass."""
    n_names = state_present.shape[1]
    mask = parts - 1
    for i in range(group.shape[0]):
        if mask and (person[i] & mask) != part:
            continue
        g = group[i]
        if not state_ready[g]:
            state_ready[g] = True
            r = ytd_row[i]
            if r >= 0:
                for k in range(STATE_WIDTH):
                    state[g, k] = ytd_state[r, k]
                for k in range(2 * n_names):
                    state_supp[g, k] = ytd_supp[r, k]
                for k in range(n_names):
                    state_present[g, k] = ytd_present[r, k]
        who = person[i]
        if claim_bad[i]:
            person_bad[who] = True
        if person_bad[who]:
            continue
        if not rejected[i]:
            p = policy[i]
            s = np.int64(setting[i])
            lvl = level[i] - 1
            st = np.int64(status[i])
            total = sums[i, 0]
            full = sums[i, 1]
            over = sums[i, 2]
            pre = sums[i, 3]
            scope = sums[i, 4]
            base_k = IP_IN if s == 0 else OP_IN
            in_scope_cum = state[g, base_k]
            ded_met = state[g, base_k + 1]
            pool_paid = state[g, base_k + 2]
            admissions = state[g, base_k + 3]
            if in_scope_cum > STATE_LIMIT or ded_met > STATE_LIMIT or pool_paid > STATE_LIMIT:
                person_bad[who] = True
                continue

            # step 2: deductible
            if ded_per_admission[p, s]:
                due = ded_level[p, s, lvl]
                if s == 0 and admissions >= 1:
                    due = ded_later[p, s, lvl]
            else:
                due = ded_amount[p, s] - ded_met
                if due < 0:
                    due = 0
            deductible = scope if scope < due else due

            # step 3: bands and the pool fund
            position = 0 if per_claim_basis[p, s] else in_scope_cum
            raw = 0
            ok = True
            low = 0
            start = position + deductible
            end = position + scope
            for b in range(band_count[p, s]):
                up = band_up[p, s, b]
                seg_lo = start if start > low else low
                seg_hi = end if (up == NONE or end < up) else up
                if seg_hi > seg_lo:
                    length = seg_hi - seg_lo
                    rate = band_rate[p, s, b, lvl, st]
                    if not _fits(length, rate) or raw > MAX_I64 - length * rate:
                        ok = False
                        break
                    raw += length * rate
                if up == NONE or up >= end:
                    break
                low = up
            if not ok:
                person_bad[who] = True
                continue
            pool = _round_half_up(raw, rate_den)
            limit = cap[p, s]
            if limit != NONE:
                left = limit - pool_paid
                if left < 0:
                    left = 0
                if pool > left:
                    pool = left

            # step 4: supplementary, in order
            supp_paid = 0
            setting_bit = 1 << s
            for j in range(supp_count[p]):
                name = supp_name[p, j]
                state_present[g, name] = True
                if (supp_settings[p, j] & setting_bit) == 0:
                    continue
                base = scope - pool - supp_paid
                start = state_supp[g, 2 * name]
                end = start + base
                if start > STATE_LIMIT:
                    ok = False
                    break
                raw = 0
                low = supp_threshold[p, j]
                for b in range(supp_band_count[p, j]):
                    up = supp_up[p, j, b]
                    seg_lo = start if start > low else low
                    seg_hi = end if (up == NONE or end < up) else up
                    if seg_hi > seg_lo:
                        length = seg_hi - seg_lo
                        rate = supp_rate[p, j, b]
                        if not _fits(length, rate) or raw > MAX_I64 - length * rate:
                            ok = False
                            break
                        raw += length * rate
                    if up == NONE or up >= end:
                        break
                    low = up
                if not ok:
                    break
                pay = _round_half_up(raw, rate_den)
                limit = supp_cap[p, j]
                if limit != NONE:
                    left = limit - state_supp[g, 2 * name + 1]
                    if left < 0:
                        left = 0
                    if pay > left:
                        pay = left
                supp_paid += pay
                out_by_name[i, name] = pay
                state_supp[g, 2 * name] = end
                state_supp[g, 2 * name + 1] += pay
            if not ok:
                person_bad[who] = True
                continue

            # step 5: assistance
            assistance = 0
            if assistance_eligible[i] and has_assistance[p]:
                share = scope - pool - supp_paid
                ratio = assistance_rate[p]
                if not _fits(share, ratio):
                    person_bad[who] = True
                    continue
                assistance = _round_half_up(share * ratio, rate_den)
                limit = assistance_cap[p]
                if limit != NONE:
                    left = limit - state[g, ASSIST]
                    if left < 0:
                        left = 0
                    if assistance > left:
                        assistance = left

            # steps 6-8: funds, the person, the account, recovery
            fund = pool + supp_paid + assistance
            burden = total - fund
            eligible = 0
            pays = account_pays[p]
            if pays >= 0 and not resident[i]:
                if pays & PAYS_SCOPE:
                    eligible += scope - fund
                if pays & PAYS_PRE:
                    eligible += pre
                if pays & PAYS_OVER:
                    eligible += over
                if pays & PAYS_FULL:
                    eligible += full
            money = balance[i]
            if money < 0:
                money = 0
            account = eligible if eligible <= money else money
            out_money[i, M_TOTAL] = total
            out_money[i, M_FULL] = full
            out_money[i, M_OVER] = over
            out_money[i, M_PRE] = pre
            out_money[i, M_SCOPE] = scope
            out_money[i, M_DED] = deductible
            out_money[i, M_POOL] = pool
            out_money[i, M_SUPP] = supp_paid
            out_money[i, M_ASSIST] = assistance
            out_money[i, M_FUND] = fund
            out_money[i, M_BURDEN] = burden
            out_money[i, M_ACCOUNT] = account
            out_money[i, M_CASH] = burden - account
            out_money[i, M_RECOVERABLE] = fund if recoverable[i] else 0

            state[g, base_k] = in_scope_cum + scope
            state[g, base_k + 1] = ded_met + deductible
            state[g, base_k + 2] = pool_paid + pool
            if s == 0 and not excluded[i]:
                state[g, base_k + 3] = admissions + 1
            state[g, ASSIST] += assistance
        for k in range(STATE_WIDTH):
            out_acc[i, k] = state[g, k]
        for k in range(2 * n_names):
            out_supp[i, k] = state_supp[g, k]
        for k in range(n_names):
            out_present[i, k] = state_present[g, k]


# --- text columns ---------------------------------------------------------------------------
# A JSON text per row from a template per row: literal pieces, each followed by one value
# (whole fen written as yuan text, ``1234.50``) or by nothing (column -1). Written straight
# into an Arrow string column's offsets and bytes.


@_inlined
def _yuan_length(v: int) -> int:
    size = 0
    if v < 0:
        size = 1
        v = -v
    whole = v // 100
    digits = 1
    while whole >= 10:
        whole //= 10
        digits += 1
    return size + digits + 3


@_compiled
def text_lengths(
    template: I64, seg_start: I64, lit_off: I64, seg_col: I64, values: I64, lengths: I64
) -> None:
    for i in range(template.shape[0]):
        t = template[i]
        size = 0
        for s in range(seg_start[t], seg_start[t + 1]):
            size += lit_off[s + 1] - lit_off[s]
            col = seg_col[s]
            if col >= 0:
                size += _yuan_length(values[i, col])
        lengths[i] = size


@_compiled
def text_write(
    template: I64,
    seg_start: I64,
    lit_off: I64,
    lit_bytes: npt.NDArray[np.uint8],
    seg_col: I64,
    values: I64,
    first: int,
    offsets: npt.NDArray[np.int32],
    data: npt.NDArray[np.uint8],
) -> None:
    """Rows ``first .. first + len(offsets) - 1`` into ``data`` (offsets from 0)."""
    pos = 0
    offsets[0] = 0
    for r in range(offsets.shape[0] - 1):
        i = first + r
        t = template[i]
        for s in range(seg_start[t], seg_start[t + 1]):
            for b in range(lit_off[s], lit_off[s + 1]):
                data[pos] = lit_bytes[b]
                pos += 1
            col = seg_col[s]
            if col >= 0:
                v = values[i, col]
                if v < 0:
                    data[pos] = 45  # "-"
                    pos += 1
                    v = -v
                size = _yuan_length(v)
                end = pos + size
                cents = v % 100
                data[end - 1] = 48 + cents % 10
                data[end - 2] = 48 + cents // 10
                data[end - 3] = 46  # "."
                whole = v // 100
                k = end - 4
                while True:
                    data[k] = 48 + whole % 10
                    whole //= 10
                    k -= 1
                    if whole == 0:
                        break
                pos = end
        offsets[r + 1] = pos


@_compiled
def select_lines(
    line_claim: I64,
    keep_claim: B,
    line_code: I64,
    out_lines: I64,
    sel_claim: I64,
    sel_code: I64,
) -> tuple[int, bool]:
    """The result lines: every line whose claim is kept, in order, its claim and code copied
    to ``sel_claim`` and ``sel_code`` and its figures moved up in ``out_lines`` (in place:
    a line never moves down); returns how many and whether their claims are ascending."""
    m = 0
    ordered = True
    last = -1
    for k in range(line_claim.shape[0]):
        i = line_claim[k]
        if not keep_claim[i]:
            continue
        if i < last:
            ordered = False
        last = i
        sel_claim[m] = i
        sel_code[m] = line_code[k]
        if m != k:
            for col in range(out_lines.shape[1]):
                out_lines[m, col] = out_lines[k, col]
        m += 1
    return m, ordered
