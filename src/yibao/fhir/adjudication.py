"""Every figure of a settlement as FHIR adjudications, each with the engine's reason.

The figures come from the engine's result (a pre-settlement, :func:`figures_of_result`)
or from the stored settlement (:func:`figures_of_stored`, i.e.
:func:`yibao.settlements.service.settlement_explained`); nothing is computed here. The
reason of a figure is the sentence of the engine's own explanation that speaks of it
(read back with the engine's phrase book, :mod:`yibao.engine.phrases`): the deductible's
sentence for ``deductible``, the band parts and the pool sentence for ``pool_fund_pay``,
each line's sentence for that line's figures, and so on (docs/fhir.md has the table).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from yibao.engine import Settlement, explanation_lines, result_to_dict
from yibao.engine import phrases as say
from yibao.engine.phrases import Lang
from yibao.engine.render import LINE_FIELDS, MONEY_FIELDS, localise_explanation, plain
from yibao.fhir import codes
from yibao.fhir.common import coding, money_text

# What the contract calls each figure (the adjudication category's display).
FIGURE_NAMES: dict[str, str] = {
    "total": "total of the bill (医疗费总额)",
    "full_self_pay": "fully self-paid: not eligible (全自费)",
    "over_limit_self_pay": "over the price ceiling (超限价自付)",
    "pre_self_pay": "self-paid first: class B share (先行自付)",
    "in_scope": "within the policy scope (政策范围内)",
    "deductible": "deductible (起付线)",
    "pool_fund_pay": "pool fund (统筹基金)",
    "supplementary_pay": "supplementary insurance (大病保险/大额补助)",
    "assistance_pay": "medical assistance (医疗救助)",
    "fund_pay_total": "paid by the funds (基金支付合计)",
    "personal_burden": "personal burden (个人负担)",
    "account_pay": "personal account (个人账户支付)",
    "cash_pay": "cash (现金支付)",
    "recoverable": "paid in advance, recoverable from a third party (先行支付)",
    "amount": "line amount (明细金额)",
}

# The contract's definition of the figures whose reason is a sum of others.
_DEFINITIONS: dict[str, str] = {
    "total": "the sum of the lines' amounts",
    "full_self_pay": "the sum of the lines' fully self-paid amounts",
    "over_limit_self_pay": "the sum of the lines' amounts over their price ceiling",
    "pre_self_pay": "the sum of the lines' class B self-paid shares",
    "in_scope": "the sum of the lines' in-scope amounts",
    "fund_pay_total": "pool fund + supplementary + medical assistance",
    "recoverable": "nothing is recoverable from a third party",
}

_POOL = (
    say.REDUCTION,
    say.BAND_LOWERED,
    say.BAND,
    say.POOL_CAP,
    say.POOL,
    say.POOL_CAP_REACHED,
)
_BY_PHRASE: tuple[tuple[tuple[say.Phrase, ...], tuple[str, ...]], ...] = (
    ((say.DEDUCTIBLE,), ("deductible",)),
    (_POOL, ("pool_fund_pay",)),
    ((say.SUPPLEMENTARY_CAPPED, say.SUPPLEMENTARY), ("supplementary_pay",)),
    ((say.ASSISTANCE_CAPPED, say.ASSISTANCE), ("assistance_pay",)),
    ((say.BURDEN,), ("personal_burden", "account_pay", "cash_pay")),
)


@dataclass(frozen=True, slots=True)
class Line:
    line_id: str | None
    code: str
    name: str
    item_class: str
    quantity: str
    unit_price: str
    figures: dict[str, str]  # LINE_FIELDS → yuan text
    not_eligible_reason: str | None


@dataclass(frozen=True, slots=True)
class Figures:
    """A settlement's figures as the engine or the store gave them (yuan text)."""

    status: str  # settled | rejected
    reason: str | None
    offsite_status: str | None
    policy_id: str | None
    setting: str
    amounts: dict[str, str]  # MONEY_FIELDS → yuan text
    lines: list[Line]
    explanation: list[str]  # English, as stored
    extra: dict[str, str] = field(default_factory=dict)  # deposit, refund, cash due


def figures_of_result(
    result: Settlement, *, quantities: dict[str, tuple[str, str]] | None = None
) -> Figures:
    """A pre-settlement's engine result; ``quantities`` gives each line id's quantity and
    unit price as the hospital sent them."""
    flat = result_to_dict(result)
    quantities = quantities or {}
    lines = []
    for line, out in zip(result.lines, flat["lines"], strict=True):
        qty, price = quantities.get(line.line_id or "", ("", ""))
        lines.append(
            Line(
                line_id=line.line_id,
                code=line.code,
                name=line.name,
                item_class=line.item_class,
                quantity=qty,
                unit_price=price,
                figures={name: out[name] for name in LINE_FIELDS},
                not_eligible_reason=line.not_eligible_reason,
            )
        )
    return Figures(
        status=result.status,
        reason=result.reason,
        offsite_status=result.offsite_status,
        policy_id=result.policy_id,
        setting=result.setting,
        amounts={name: flat[name] for name in MONEY_FIELDS},
        lines=lines,
        explanation=explanation_lines(result, lang="en"),
    )


def figures_of_stored(explained: dict[str, Any]) -> Figures:
    """A stored settlement as :func:`settlement_explained` (``lang="en"``) gave it."""
    return Figures(
        status="settled",
        reason=None,
        offsite_status=explained["offsite_status"],
        policy_id=explained["policy_id"],
        setting=explained["setting"],
        amounts=dict(explained["amounts"]),
        lines=[
            Line(
                line_id=line["line_id"],
                code=line["code"],
                name=line["name"],
                item_class=line["class"],
                quantity=line["quantity"],
                unit_price=line["unit_price"],
                figures={name: line[name] for name in LINE_FIELDS},
                not_eligible_reason=line["not_eligible_reason"],
            )
            for line in explained["lines"]
        ],
        explanation=list(explained["explanation"]),
        extra={
            "deposit": explained["deposit"],
            "deposit_refund": explained["deposit_refund"],
            "cash_due": explained["cash_due"],
        },
    )


@dataclass(slots=True)
class Reasons:
    """The explanation's sentences sorted by the figure they speak of."""

    by_figure: dict[str, list[str]]
    by_line: list[str]
    other: list[str]


def sort_reasons(explanation: Sequence[str]) -> Reasons:
    reasons = Reasons(by_figure={}, by_line=[], other=[])
    for sentence in explanation:
        if say.LINE.read(sentence) is not None:
            reasons.by_line.append(sentence)
            continue
        for phrases, figures in _BY_PHRASE:
            if any(phrase.read(sentence) is not None for phrase in phrases):
                for figure in figures:
                    reasons.by_figure.setdefault(figure, []).append(sentence)
                break
        else:
            reasons.other.append(sentence)
    return reasons


def _category(figure: str) -> dict[str, Any]:
    codings = [coding(codes.FIGURE, figure, FIGURE_NAMES[figure])]
    hl7 = codes.HL7_CATEGORY_OF.get(figure)
    if hl7 is not None:
        codings.append(coding(codes.HL7_ADJUDICATION, hl7))
    return {"coding": codings}


def _reason(figure: str, sentences: Sequence[str], lang: Lang) -> dict[str, Any]:
    text = " / ".join(localise_explanation(list(sentences), lang)) if sentences else ""
    return {
        "coding": [coding(codes.REASON, figure)],
        "text": text or _DEFINITIONS.get(figure, FIGURE_NAMES[figure]),
    }


def header_adjudications(figures: Figures, lang: Lang) -> list[dict[str, Any]]:
    """Every money figure of the settlement, with its reason."""
    reasons = sort_reasons(figures.explanation)
    out = []
    for name in MONEY_FIELDS:
        sentences = reasons.by_figure.get(name, [])
        if name == "recoverable" and Decimal(figures.amounts[name]):
            sentences = [s for s in reasons.other if "third party" in s]
        out.append(
            {
                "category": _category(name),
                "reason": _reason(name, sentences, lang),
                "amount": money_text(figures.amounts[name]),
            }
        )
    return out


def totals(figures: Figures) -> list[dict[str, Any]]:
    return [
        {"category": _category(name), "amount": money_text(figures.amounts[name])}
        for name in MONEY_FIELDS
    ]


def line_adjudications(figures: Figures, lang: Lang) -> list[list[dict[str, Any]]]:
    """For each line, its figures, each with the line's sentence as the reason."""
    sentences = sort_reasons(figures.explanation).by_line
    out = []
    for index, line in enumerate(figures.lines):
        sentence = sentences[index] if index < len(sentences) else None
        found = say.LINE.read(sentence) if sentence else None
        if found is None or found["code"] != line.code:
            sentence = None  # never the reason of another line
        out.append(
            [
                {
                    "category": _category(name),
                    "reason": _line_reason(line, sentence, lang),
                    "amount": money_text(line.figures[name]),
                }
                for name in LINE_FIELDS
            ]
        )
    return out


def _line_reason(line: Line, sentence: str | None, lang: Lang) -> dict[str, Any]:
    reason_code = "not_eligible" if line.not_eligible_reason else f"class_{line.item_class or 'x'}"
    text = localise_explanation([sentence], lang)[0] if sentence else None
    return {
        "coding": [coding(codes.REASON, reason_code)],
        "text": text or line.not_eligible_reason or f"class {line.item_class}",
    }


def process_notes(figures: Figures, lang: Lang) -> list[dict[str, Any]]:
    """The engine's whole explanation, sentence by sentence."""
    return [
        {"number": number, "type": "display", "text": text}
        for number, text in enumerate(localise_explanation(figures.explanation, lang), start=1)
    ]


def product(line: Line) -> dict[str, Any]:
    concept: dict[str, Any] = {"coding": [coding(codes.CATALOG, line.code, line.name or None)]}
    if line.name:
        concept["text"] = line.name
    return concept


def item_class(line: Line) -> dict[str, Any] | None:
    if not line.item_class:
        return None
    return {"coding": [coding(codes.ITEM_CLASS, line.item_class)]}


def quantity(line: Line) -> dict[str, Any] | None:
    return {"value": Decimal(line.quantity)} if line.quantity else None


def unit_price(line: Line) -> dict[str, Any] | None:
    return money_text(line.unit_price) if line.unit_price else None


__all__ = ["Figures", "Line", "plain"]
