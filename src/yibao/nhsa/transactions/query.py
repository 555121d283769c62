"""5203 settlement information query (结算信息查询)."""

from __future__ import annotations

from typing import Any

from yibao.nhsa.envelope import MessageError
from yibao.nhsa.transactions import Context, transaction
from yibao.nhsa.transactions.common import check_psn_no, int_id, record_output
from yibao.settlements import service as settlements


@transaction("5203", "结算信息查询 settlement query")
def settlement_query(ctx: Context) -> dict[str, Any]:
    """A settlement the institution may read (the settlements service decides)."""
    data = ctx.envelope.input.obj("data")
    row = settlements.get_settlement(
        ctx.session, actor=ctx.user, settlement_id=int_id(data, "setl_id")
    )
    mdtrt = data.text("mdtrt_id", max_length=20)
    if mdtrt is not None and mdtrt != str(row.encounter_id):
        raise MessageError("input.data.mdtrt_id", f"settlement {row.id} is not of visit {mdtrt}")
    check_psn_no(data, row.person_id)
    return record_output(ctx, row, med_type=None)
