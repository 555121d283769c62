"""The contract's JSON shapes of results and accumulators, and the explanation for people.

The explanation is built here, in English, with the phrases of :mod:`yibao.engine.phrases`,
which also say it in Chinese: English is what ``yibao settle --explain`` prints (the
contract's output) and what a stored settlement keeps; Chinese is chosen at render time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from yibao.money import FEN

from . import phrases as say
from .models import (
    Explanation,
    LineResult,
    SettingAccumulator,
    Settlement,
    SupplementaryAccumulator,
    YearAccumulators,
)
from .phrases import Lang

MONEY_FIELDS = (
    "total",
    "full_self_pay",
    "over_limit_self_pay",
    "pre_self_pay",
    "in_scope",
    "deductible",
    "pool_fund_pay",
    "supplementary_pay",
    "assistance_pay",
    "fund_pay_total",
    "personal_burden",
    "account_pay",
    "cash_pay",
    "recoverable",
)
LINE_FIELDS = ("amount", "full_self_pay", "over_limit_self_pay", "pre_self_pay", "in_scope")


def money(value: Decimal) -> str:
    """Yuan with exactly two decimals, as plain text (``1234.50``): a value quantized to the
    fen has exponent -2, which ``str`` never writes in E notation (and is twice as fast as
    ``format(x, "f")`` on the settle path)."""
    return str(value.quantize(FEN))


def _ratio(value: Decimal) -> str:
    return f"{(value * 100).normalize():f}%"


def _setting_to_dict(acc: SettingAccumulator) -> dict[str, Any]:
    return {
        "in_scope_cum": money(acc.in_scope_cum),
        "deductible_met": money(acc.deductible_met),
        "pool_paid_cum": money(acc.pool_paid_cum),
        "admissions": acc.admissions,
    }


def accumulators_to_dict(acc: YearAccumulators) -> dict[str, Any]:
    return {
        "year": acc.year,
        "inpatient": _setting_to_dict(acc.inpatient),
        "outpatient": _setting_to_dict(acc.outpatient),
        "supplementary": {
            name: {"base_cum": money(s.base_cum), "paid_cum": money(s.paid_cum)}
            for name, s in sorted(acc.supplementary.items())
        },
        "assistance_paid_cum": money(acc.assistance_paid_cum),
    }


def accumulators_from_dict(data: Mapping[str, Any], *, year: int) -> YearAccumulators:
    """Inverse of :func:`accumulators_to_dict` (values already validated as decimals)."""

    def setting(part: Any) -> SettingAccumulator:
        part = part or {}
        return SettingAccumulator(
            in_scope_cum=Decimal(part.get("in_scope_cum", 0)),
            deductible_met=Decimal(part.get("deductible_met", 0)),
            pool_paid_cum=Decimal(part.get("pool_paid_cum", 0)),
            admissions=int(part.get("admissions", 0)),
        )

    return YearAccumulators(
        year=int(data.get("year", year)),
        inpatient=setting(data.get("inpatient")),
        outpatient=setting(data.get("outpatient")),
        supplementary={
            str(name): SupplementaryAccumulator(
                base_cum=Decimal(v.get("base_cum", 0)), paid_cum=Decimal(v.get("paid_cum", 0))
            )
            for name, v in (data.get("supplementary") or {}).items()
        },
        assistance_paid_cum=Decimal(data.get("assistance_paid_cum", 0)),
    )


def result_to_dict(result: Settlement, *, explain: bool = False) -> dict[str, Any]:
    """The contract's result object (keys in the contract's order, then extras)."""
    out: dict[str, Any] = {
        "claim_id": result.claim_id,
        "status": result.status,
        "reason": result.reason,
        "offsite_status": result.offsite_status,
        "policy_id": result.policy_id,
    }
    for name in MONEY_FIELDS:
        out[name] = money(getattr(result, name))
    out["lines"] = [
        {"code": line.code, **{name: money(getattr(line, name)) for name in LINE_FIELDS}}
        for line in result.lines
    ]
    out["accumulators"] = accumulators_to_dict(result.accumulators)
    out["setting"] = result.setting
    out["supplementary_by_name"] = {k: money(v) for k, v in result.supplementary_by_name.items()}
    if explain:
        out["explanation"] = explanation_lines(result)
    return out


# --- the explanation --------------------------------------------------------------------


def explanation_lines(result: Settlement, *, lang: Lang = "en") -> list[str]:
    """The reasoning behind a result, one sentence a line, for people.

    English by default: what ``yibao settle --explain`` prints and what a stored settlement
    keeps. ``lang="zh"`` says the same sentences in Chinese (:mod:`yibao.engine.phrases`).
    """
    exp = result.explanation or Explanation(offsite_reason="")
    out: list[str] = []
    if result.offsite_status is not None:
        out.append(say.OFFSITE.say(status=result.offsite_status, reason=exp.offsite_reason))
    if result.status == "rejected":
        out.append(say.REJECTED.say(reason=str(result.reason)))
        return localise_explanation(out, lang)
    out.append(say.POLICY.say(policy=str(result.policy_id), setting=result.setting))
    out.extend(_line_sentence(line) for line in result.lines)
    out.append(
        say.DEDUCTIBLE.say(
            due=money(exp.deductible_due),
            before=money(exp.deductible_met_before),
            met=money(result.deductible),
        )
    )
    if exp.reduction:
        out.append(say.REDUCTION.say(ratio=_ratio(exp.reduction), mode=exp.reduction_mode))
    out.extend(_fund_sentences(result, exp))
    out.append(
        say.BURDEN.say(
            burden=money(result.personal_burden),
            account=money(result.account_pay),
            eligible=money(exp.account_eligible),
            cash=money(result.cash_pay),
        )
    )
    out.extend(exp.notes)
    return localise_explanation(out, lang)


def localise_explanation(lines: Sequence[str], lang: Lang) -> list[str]:
    """Explanation sentences as stored (English) said in ``lang``; see :func:`phrases.localise`."""
    return say.localise(lines, lang)


def plain(value: Decimal) -> str:
    """A quantity or a unit price as people write it: ``40``, ``0.5``, ``35.5``, never ``4E+1``."""
    return format(value.normalize(), "f")


def _line_sentence(line: LineResult) -> str:
    if not line.eligible:
        bits = [say.NOT_ELIGIBLE.say(reason=str(line.not_eligible_reason))]
    else:
        bits = []
        if line.price_ceiling is not None:
            bits.append(
                say.CEILING.say(
                    ceiling=money(line.price_ceiling), over=money(line.over_limit_self_pay)
                )
            )
        else:
            bits.append(say.NO_CEILING.say())
        if line.item_class == "B":
            bits.append(say.SELF_PAY_RATIO.say(ratio=_ratio(line.self_pay_ratio)))
        if line.offsite_extra:
            bits.append(say.OFFSITE_EXTRA.say(extra=money(line.offsite_extra)))
        bits.append(say.IN_SCOPE.say(pre=money(line.pre_self_pay), scope=money(line.in_scope)))
    return say.LINE.say(
        code=line.code,
        name=line.name,
        cls=line.item_class or "?",
        amount=money(line.amount),
        bits="; ".join(bits),
    )


def _fund_sentences(result: Settlement, exp: Explanation) -> list[str]:
    """The band parts, the pool fund, the supplementary items and medical assistance."""
    out: list[str] = []
    for part in exp.parts:
        figures = {
            "start": money(part.start),
            "end": money(part.end),
            "amount": money(part.amount),
            "rate": _ratio(part.rate),
        }
        if part.rate != part.base_ratio:
            out.append(say.BAND_LOWERED.say(**figures, base=_ratio(part.base_ratio)))
        else:
            out.append(say.BAND.say(**figures))
    computed, pays = money(exp.pool_computed), money(result.pool_fund_pay)
    if exp.pool_cap_left is None:
        out.append(say.POOL.say(computed=computed, pays=pays))
    else:
        out.append(say.POOL_CAP.say(computed=computed, left=money(exp.pool_cap_left), pays=pays))
    if exp.pool_cap_reached:
        out.append(say.POOL_CAP_REACHED.say())
    for supp in exp.supplementary:
        pieces = ", ".join(
            say.PIECE.say(amount=money(p.amount), rate=_ratio(p.rate)) for p in supp.parts
        )
        phrase = say.SUPPLEMENTARY_CAPPED if supp.cap_reached else say.SUPPLEMENTARY
        out.append(
            phrase.say(
                name=supp.name,
                base=money(supp.base),
                start=money(supp.start),
                pieces=pieces or "none",
                paid=money(supp.paid),
            )
        )
    if result.assistance_pay or exp.assistance_computed:
        phrase = say.ASSISTANCE_CAPPED if exp.assistance_cap_reached else say.ASSISTANCE
        out.append(phrase.say(paid=money(result.assistance_pay)))
    return out
