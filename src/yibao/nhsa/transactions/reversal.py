"""2601 reversal (冲正交易): undo a transaction whose answer was lost, by its msgid."""

from __future__ import annotations

from typing import Any

from yibao.nhsa.envelope import MessageError
from yibao.nhsa.transactions import Context, transaction
from yibao.nhsa.transactions.common import check_psn_no, record_output
from yibao.settlements import service as settlements

# The transactions whose effect a 2601 reverses: the settlements.
REVERSIBLE = {"2207": "outpatient", "2304": "inpatient"}


@transaction("2601", "冲正交易 reversal", once=True)
def reversal(ctx: Context) -> dict[str, Any]:
    """Find what was stored under ``omsgid`` and reverse it through the settlements
    service (:func:`yibao.settlements.service.reverse_by_message`, the REST API's
    ``/settlements/reverse-by-message``)."""
    data = ctx.envelope.input.obj("data")
    omsgid = data.need("omsgid", max_length=60)
    oinfno = data.need("oinfno", max_length=10)
    if oinfno not in REVERSIBLE:
        raise MessageError(
            "input.data.oinfno",
            f"{oinfno} is not reversed by 2601: only settlements ({', '.join(REVERSIBLE)}); "
            "cancel other steps with their own cancellation",
        )
    reversed_ = settlements.reverse_by_message(
        ctx.session,
        institution_id=ctx.institution.id,
        original_msg_id=omsgid,
        msg_id=ctx.envelope.msgid,
        reason=f"2601 冲正 {oinfno} {omsgid}",
        actor=ctx.user,
        now=ctx.now,
    )
    if reversed_.setting != REVERSIBLE[oinfno]:
        raise MessageError(
            "input.data.oinfno",
            f"message {omsgid} settled an {reversed_.setting} visit, not a {oinfno}",
        )
    check_psn_no(data, reversed_.person_id)
    out = record_output(ctx, reversed_, med_type=None)
    out["data"] = {"omsgid": omsgid, "oinfno": oinfno, "osetl_id": str(reversed_.reverses_id)}
    return out
