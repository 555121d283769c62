"""Reconciliation (对账): 3201 totals, 3202 details, through the reconciliation service.

3202's detail file (the hospital's own list) travels in ``input.data.detail_file``:
tab-separated text, one settlement a line, the columns ``setl_id``, ``mdtrt_id``,
``psn_no``, ``medfee_sumamt``, ``fund_pay_sumamt``, ``acct_pay``, ``refd_setl_flag``
(0 a settlement, 1 its cancellation, with negative amounts), a header line optional.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from yibao.nhsa.envelope import Fields, MessageError
from yibao.nhsa.transactions import Context, transaction
from yibao.reconciliation import service as reconciliation
from yibao.reconciliation.compare import Entry

DETAIL_COLUMNS = (
    "setl_id",
    "mdtrt_id",
    "psn_no",
    "medfee_sumamt",
    "fund_pay_sumamt",
    "acct_pay",
    "refd_setl_flag",
)
# Yibao's names of the compared fields -> the national ones.
FIELD_NAMES = {
    "count": "fixmedins_setl_cnt",
    "total": "medfee_sumamt",
    "fund_pay": "fund_pay_sumamt",
    "account_pay": "acct_pay",
    "encounter": "mdtrt_id",
    "person": "psn_no",
    "reversal": "refd_setl_flag",
}
KIND_WORDS = {
    "missing": "Yibao has it, the file does not",
    "extra": "in the file, not in Yibao",
    "amount_differs": "differs",
    "totals_differ": "totals differ",
}


def _period(data: Fields) -> tuple[date, date]:
    start = data.day("stmt_begndate", required=True)
    end = data.day("stmt_enddate", required=True)
    assert start is not None and end is not None
    return start, end


def _count(data: Fields) -> int:
    text = data.need("fixmedins_setl_cnt", max_length=12)
    if not text.lstrip("-").isdigit() or int(text) < 0:
        raise MessageError(f"{data.where}.fixmedins_setl_cnt", f"{text!r} is not a count")
    return int(text)


def _signed_amount(row: Fields, name: str) -> Decimal:
    text = row.need(name, max_length=30)
    negative = text.startswith("-")
    value = Fields({name: text.removeprefix("-")}, row.where).amount(name, required=True)
    assert value is not None
    return -value if negative else value


def parse_detail_file(text: str) -> list[Entry]:
    entries: list[Entry] = []
    seen: set[str] = set()
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        if not line.strip():
            continue
        cells = [cell.strip() for cell in line.split("\t")]
        if number == 1 and cells[0] == "setl_id":
            continue  # a header line
        where = f"input.data.detail_file line {number}"
        if len(cells) != len(DETAIL_COLUMNS):
            raise MessageError(
                where,
                f"{len(cells)} tab-separated columns, expected {len(DETAIL_COLUMNS)}: "
                + ", ".join(DETAIL_COLUMNS),
            )
        row = Fields(dict(zip(DETAIL_COLUMNS, cells, strict=True)), where)
        setl_id = row.need("setl_id", max_length=30)
        if setl_id in seen:
            raise MessageError(f"{where}.setl_id", f"{setl_id!r} appears twice")
        seen.add(setl_id)
        flag = row.need("refd_setl_flag", max_length=2)
        if flag not in ("0", "1"):
            raise MessageError(f"{where}.refd_setl_flag", f"{flag!r} is not 0 or 1")
        entries.append(
            Entry(
                ref=setl_id,
                encounter=row.text("mdtrt_id", max_length=30) or "",
                person=row.need("psn_no", max_length=30),
                total=_signed_amount(row, "medfee_sumamt"),
                fund_pay=_signed_amount(row, "fund_pay_sumamt"),
                account_pay=_signed_amount(row, "acct_pay"),
                reversal=flag == "1",
            )
        )
    return entries


def _show(field: str | None, value: str | None) -> str | None:
    if field == "reversal" and value is not None:
        return "1" if value == "True" else "0"
    return value


def _answer(row: Any) -> dict[str, Any]:
    differences = [
        {
            "kind": d["kind"],
            "setl_id": d["ref"],
            "field": FIELD_NAMES.get(d["field"], d["field"]),
            "yibao": _show(d["field"], d["ours"]),
            "fixmedins": _show(d["field"], d["theirs"]),
        }
        for d in row.differences
    ]
    if not differences:
        description = "对账平衡 balanced"
    else:
        parts = [
            f"{d['setl_id'] or 'totals'} {d['field']}: {KIND_WORDS[d['kind']]} "
            f"(Yibao {d['yibao']}, hospital {d['fixmedins']})"
            for d in differences
        ]
        description = f"对账不平 {len(differences)} difference(s): " + "; ".join(parts)
    return {
        "stmtinfo": {
            "setl_optins": None,
            "stmt_rslt": "0" if not differences else "1",
            "stmt_rslt_dscr": description,
            "stmt_id": str(row.id),
            "differences": differences,
        }
    }


@transaction("3201", "对总账 totals reconciliation", once=True)
def totals(ctx: Context) -> dict[str, Any]:
    data = ctx.envelope.input.obj("data")
    start, end = _period(data)
    total = data.amount("medfee_sumamt", required=True)
    fund = data.amount("fund_pay_sumamt", required=True)
    assert total is not None and fund is not None
    row = reconciliation.submit_entry_reconciliation(
        ctx.session,
        actor=ctx.user,
        period_from=start,
        period_to=end,
        count=_count(data),
        total=total,
        fund_pay=fund,
        account_pay=data.amount("acct_pay"),
        now=ctx.now,
    )
    out = _answer(row)
    out["stmtinfo"]["setl_optins"] = data.text("setl_optins", max_length=6)
    return out


@transaction("3202", "明细对账 detail reconciliation", once=True)
def details(ctx: Context) -> dict[str, Any]:
    data = ctx.envelope.input.obj("data")
    start, end = _period(data)
    total = data.amount("medfee_sumamt", required=True)
    fund = data.amount("fund_pay_sumamt", required=True)
    assert total is not None and fund is not None
    text = data.text("detail_file", max_length=20_000_000)
    if text is None:
        raise MessageError(
            "input.data.detail_file",
            "is required: the tab-separated detail file (" + ", ".join(DETAIL_COLUMNS) + ")",
        )
    row = reconciliation.submit_entry_reconciliation(
        ctx.session,
        actor=ctx.user,
        period_from=start,
        period_to=end,
        count=_count(data),
        total=total,
        fund_pay=fund,
        entries=parse_detail_file(text),
        now=ctx.now,
    )
    out = _answer(row)
    out["stmtinfo"]["setl_optins"] = data.text("setl_optins", max_length=6)
    return out
