"""A stored settlement laid out as a waterfall (结算瀑布图): from the bill down to what the
person paid in cash, every figure the stored settlement's own field, and beside each the
engine's own sentence that explains it (from the stored explanation, in the reader's
language). Nothing is computed here: the figures are read, the sentences are found.
"""

from __future__ import annotations

import json
from typing import Any

from yibao.engine import phrases as say
from yibao.engine.phrases import DEFAULT_LANGUAGE, Lang
from yibao.money import from_fen
from yibao.settlements.models import SettlementRecord

_BANDS = (say.BAND_LOWERED, say.BAND)
_SUPPLEMENTARY = (say.SUPPLEMENTARY_CAPPED, say.SUPPLEMENTARY)
_ASSISTANCE = (say.ASSISTANCE_CAPPED, say.ASSISTANCE)


def _found(lines: list[str], phrases: tuple[say.Phrase, ...]) -> list[tuple[str, dict[str, str]]]:
    out = []
    for line in lines:
        for phrase in phrases:
            slots = phrase.read(line)
            if slots is not None:
                out.append((line, slots))
                break
    return out


def settlement_waterfall(
    record_: SettlementRecord, *, lang: Lang = DEFAULT_LANGUAGE
) -> list[dict[str, Any]]:
    """The steps of the waterfall, in order. Each: ``key`` (the stored field, or ``band``),
    ``amount`` (yuan text, the stored figure), ``kind`` (``total``: a bar from zero;
    ``down``: the part taken from the bar before it), ``reasons`` (the engine's sentences
    about it, in ``lang``), and for a band ``start``, ``end``, ``rate`` and ``base`` (the
    band's own ratio when the off-site rule lowered it), as the engine stated them."""
    stored = json.loads(record_.result_json).get("explanation", [])
    lines = [str(line) for line in stored]

    def said(found: list[tuple[str, dict[str, str]]]) -> list[str]:
        return say.localise([line for line, _ in found], lang)

    def step(key: str, kind: str, reasons: list[str] | None = None) -> dict[str, Any]:
        return {
            "key": key,
            "amount": str(from_fen(getattr(record_, f"{key}_fen"))),
            "kind": kind,
            "reasons": reasons or [],
        }

    steps = [
        step("total", "total"),
        step("full_self_pay", "down"),
        step("over_limit_self_pay", "down"),
        step("pre_self_pay", "down"),
        step("in_scope", "total"),
        step("deductible", "down", said(_found(lines, (say.DEDUCTIBLE,)))),
    ]
    for line, slots in _found(lines, _BANDS):
        steps.append(
            {
                "key": "band",
                "amount": slots["amount"],
                "kind": "down",
                "reasons": say.localise([line], lang),
                "start": slots["start"],
                "end": slots["end"],
                "rate": slots["rate"],
                "base": slots.get("base"),
            }
        )
    steps += [
        step("pool_fund_pay", "total", said(_found(lines, (say.POOL_CAP, say.POOL)))),
        step("supplementary_pay", "total", said(_found(lines, _SUPPLEMENTARY))),
        step("assistance_pay", "total", said(_found(lines, _ASSISTANCE))),
        step("personal_burden", "total", said(_found(lines, (say.BURDEN,)))),
        step("account_pay", "down"),
        step("cash_pay", "total"),
    ]
    return steps
