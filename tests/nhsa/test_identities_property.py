"""For random valid 2301 uploads, the 2303 and 2304 answers keep the identities of the
issue and equal the engine's own figures (the stored settlement)."""

from __future__ import annotations

import itertools
from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from tests.nhsa.conftest import His
from tests.nhsa.test_inpatient_sequence import admit, check_identities, settle_input
from yibao.money import from_fen
from yibao.registry.models import Person
from yibao.settlements.models import SettlementRecord

CODES = ["X001", "X002", "X003", "M001", "S001", "V001"]
line = st.tuples(
    st.sampled_from(CODES),
    st.decimals(min_value=D("0.01"), max_value=D("50"), places=2),
    st.decimals(min_value=D("0.01"), max_value=D("2000"), places=2),
)
_stays = itertools.count(1)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(line, min_size=1, max_size=8))
def test_answers_keep_the_identities_and_the_engines_figures(
    his: His, patient: Person, session: Session, lines: list[tuple[str, D, D]]
) -> None:
    stay = next(_stays)
    mdtrt_id = admit(his, patient, ref=f"ZY-P-{stay}")
    uploaded = his.ok(
        "2301",
        {
            "feedetail": [
                {
                    "feedetl_sn": f"P{stay}-{i}",
                    "mdtrt_id": mdtrt_id,
                    "med_list_codg": code,
                    "cnt": str(qty),
                    "pric": price,
                }
                for i, (code, qty, price) in enumerate(lines)
            ]
        },
    )["result"]
    for row in uploaded:
        assert (
            row["det_item_fee_sumamt"]
            == row["fulamt_ownpay_amt"]
            + row["overlmt_amt"]
            + row["preselfpay_amt"]
            + row["inscp_scp_amt"]
        )
    data = settle_input(patient, mdtrt_id)
    del data["data"]["medfee_sumamt"]
    pre = his.ok("2303", data)["setlinfo"]
    settled = his.ok("2304", data)["setlinfo"]
    check_identities(pre)
    check_identities(settled)
    row = session.get(SettlementRecord, int(settled["setl_id"]))
    assert row is not None
    engine = {
        "medfee_sumamt": row.total_fen,
        "fulamt_ownpay_amt": row.full_self_pay_fen,
        "overlmt_selfpay": row.over_limit_self_pay_fen,
        "preselfpay_amt": row.pre_self_pay_fen,
        "inscp_scp_amt": row.in_scope_fen,
        "act_pay_dedc": row.deductible_fen,
        "hifp_pay": row.pool_fund_pay_fen,
        "maf_pay": row.assistance_pay_fen,
        "fund_pay_sumamt": row.fund_pay_total_fen,
        "psn_part_amt": row.personal_burden_fen,
        "acct_pay": row.account_pay_fen,
        "psn_cash_pay": row.cash_pay_fen,
    }
    for name, fen in engine.items():
        assert settled[name] == from_fen(fen), name
        assert pre[name] == from_fen(fen), name  # the pre-settlement saw the same year
    supplementary = (
        settled["hifob_pay"]
        + settled["hifmi_pay"]
        + settled["cvlserv_pay"]
        + settled["hifes_pay"]
        + settled["oth_pay"]
    )
    assert supplementary == from_fen(row.supplementary_pay_fen)
    assert settled["fund_pay_sumamt"] == settled["hifp_pay"] + supplementary + settled["maf_pay"]
