"""The phrase book of the settlement explanation: every sentence in English and in Chinese.

Each :class:`Phrase` has an English form, whose ``{slot:kind}`` marks say what a slot holds,
and a Chinese form with the same slots in the agencies' wording (money as ``1,234.50 元``).
:mod:`yibao.engine.render` says a result in English with these phrases; :func:`localise`
reads English sentences back (a fresh result's, or a stored settlement's) and says them in
Chinese, so both languages carry the same figures and a settlement is stored once.

The engine's reasons (:mod:`yibao.engine.settle`: the off-site status, a line outside the
fund, a rejected claim, the notes) are English text; ``_REASONS`` says them phrase by
phrase. Whatever the book does not know is kept in English (``untranslated`` finds it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Final, Literal

Lang = Literal["zh", "en"]
LANGUAGES: Final[tuple[Lang, ...]] = ("zh", "en")
# The agencies and the people they serve read Chinese; English is asked for.
DEFAULT_LANGUAGE: Final[Lang] = "zh"


def choose_language(lang: str | None = None, accept_language: str | None = None) -> Lang:
    """The language of an answer: ``lang`` when given (``en`` or anything else → Chinese),
    else the heaviest language of ``Accept-Language`` that we speak, else Chinese."""
    if lang is not None:
        return "en" if _primary(lang) == "en" else DEFAULT_LANGUAGE
    wanted: list[tuple[float, int, str]] = []
    for index, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.partition(";")
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if _primary(tag) in LANGUAGES and weight > 0:
            wanted.append((-weight, index, _primary(tag)))
    return "en" if wanted and min(wanted)[2] == "en" else DEFAULT_LANGUAGE


def _primary(tag: str) -> str:
    return tag.strip().lower().replace("_", "-").split("-")[0]


def localise(lines: Sequence[str], lang: Lang) -> list[str]:
    """English explanation sentences said in ``lang``.

    A sentence the book does not know is kept as it is, and a sentence already in Chinese
    matches no English phrase: localising twice changes nothing.
    """
    if lang == "en":
        return list(lines)
    chinese = _Chinese()
    return [chinese.sentence(line) for line in lines]


# How a slot reads in an English sentence. ``reason``, ``bits`` and ``pieces`` hold phrases
# of their own (separated by "; " or ", "), translated one by one.
_SLOT_PATTERNS: Final[Mapping[str, str]] = {
    "money": r"-?\d+\.\d{2}",
    "ratio": r"-?\d+(?:\.\d+)?%",
    "word": r"[\w?-]+",
    "token": r"\S+",
    "text": r".*?",
    "name": r".*?",
    "period": r"\S+\.\.\S+",
    "reason": r".*",
    "bits": r".+",
    "pieces": r".+?",
}
_SLOT = re.compile(r"\{(\w+):(\w+)\}")


class Phrase:
    """One sentence (or part of one) in English, ``{slot:kind}`` marking the slots, and in
    Chinese, ``{slot}`` marking the same slots. ``say(**slots)`` fills the English form."""

    __slots__ = ("_regex", "kinds", "say", "zh")

    def __init__(self, en: str, zh: str) -> None:
        self.kinds = dict(_SLOT.findall(en))
        # str.format itself: no Python frame per sentence on the settle path
        self.say: Callable[..., str] = _SLOT.sub(r"{\1}", en).format
        pattern, position = "", 0
        for slot in _SLOT.finditer(en):
            pattern += re.escape(en[position : slot.start()])
            pattern += f"(?P<{slot[1]}>{_SLOT_PATTERNS[slot[2]]})"
            position = slot.end()
        self._regex = re.compile(pattern + re.escape(en[position:]), re.DOTALL)
        self.zh = zh

    def read(self, text: str) -> dict[str, str] | None:
        """The slots of ``text`` when it is this phrase in English, else None."""
        found = self._regex.fullmatch(text)
        return None if found is None else found.groupdict()


_P = Phrase

OFFSITE = _P("off-site status {status:word}: {reason:reason}", "就医类型：{status}（{reason}）")
REJECTED = _P("rejected: {reason:reason}", "不予结算：{reason}")
POLICY = _P("policy {policy:token} ({setting:word})", "适用政策 {policy}（{setting}）")
LINE = _P(
    "line {code:token} {name:text} class {cls:word}: amount {amount:money}; {bits:bits}",
    "明细 {code} {name}（{cls}）：金额 {amount} 元；{bits}",
)
DEDUCTIBLE = _P(
    "deductible due {due:money} (met before {before:money}), met on this claim {met:money}",
    "起付线 {due} 元，此前已付 {before} 元，本次计入 {met} 元",
)
REDUCTION = _P(
    "off-site reduction {ratio:ratio} ({mode:word})", "异地就医支付比例下调 {ratio}（{mode}）"
)
BAND = _P(
    "band part {start:money}–{end:money}: {amount:money} at {rate:ratio}",
    "分段 {start}–{end} 元：{amount} 元按 {rate} 支付",
)
BAND_LOWERED = _P(
    "band part {start:money}–{end:money}: {amount:money} at {rate:ratio}"
    " (band {base:ratio} lowered)",
    "分段 {start}–{end} 元：{amount} 元按 {rate} 支付（本段比例 {base}，已下调）",
)
POOL = _P(
    "pool fund computed {computed:money}; pays {pays:money}",
    "统筹基金计算 {computed} 元，支付 {pays} 元",
)
POOL_CAP = _P(
    "pool fund computed {computed:money}; cap left {left:money}; pays {pays:money}",
    "统筹基金计算 {computed} 元，年度限额剩余 {left} 元，支付 {pays} 元",
)
POOL_CAP_REACHED = _P("annual cap of the pool fund reached", "统筹基金已达年度最高支付限额")
SUPPLEMENTARY = _P(
    "supplementary {name:name}: base {base:money} from {start:money};"
    " paid parts {pieces:pieces}; pays {paid:money}",
    "{name}：计算基数 {base} 元（自累计 {start} 元起），分段支付 {pieces}，支付 {paid} 元",
)
SUPPLEMENTARY_CAPPED = _P(
    "supplementary {name:name}: base {base:money} from {start:money};"
    " paid parts {pieces:pieces}; pays {paid:money}; annual cap reached",
    "{name}：计算基数 {base} 元（自累计 {start} 元起），分段支付 {pieces}，支付 {paid} 元；"
    "已达年度限额",
)
PIECE = _P("{amount:money} at {rate:ratio}", "{amount} 元按 {rate}")
ASSISTANCE = _P("medical assistance pays {paid:money}", "医疗救助支付 {paid} 元")
ASSISTANCE_CAPPED = _P(
    "medical assistance pays {paid:money}; annual cap reached",
    "医疗救助支付 {paid} 元；已达年度限额",
)
BURDEN = _P(
    "personal burden {burden:money}: account {account:money} (may pay {eligible:money}),"
    " cash {cash:money}",
    "个人负担 {burden} 元：个人账户支付 {account} 元（可支付 {eligible} 元），现金支付 {cash} 元",
)
# Said of a stored settlement by its reversal (yibao.settlements).
REVERSAL = _P(
    "reversal of settlement {id:token}: every amount negated", "冲正结算 {id}：各项金额取反"
)

# Whole sentences, tried in order.
_SENTENCES: Final[tuple[Phrase, ...]] = (
    OFFSITE,
    REJECTED,
    POLICY,
    LINE,
    DEDUCTIBLE,
    REDUCTION,
    BAND_LOWERED,
    BAND,
    POOL_CAP,
    POOL,
    POOL_CAP_REACHED,
    SUPPLEMENTARY_CAPPED,
    SUPPLEMENTARY,
    ASSISTANCE_CAPPED,
    ASSISTANCE,
    BURDEN,
    REVERSAL,
)

# What a line says after its amount.
NOT_ELIGIBLE = _P(
    "not eligible ({reason:reason}) → self-pay", "不属基金支付范围（{reason}），全额自费"
)
CEILING = _P(
    "ceiling {ceiling:money}, over limit {over:money}", "限价 {ceiling} 元，超限价自付 {over} 元"
)
NO_CEILING = _P("no price ceiling", "无限价")
SELF_PAY_RATIO = _P("self-pay ratio {ratio:ratio}", "先行自付比例 {ratio}")
OFFSITE_EXTRA = _P("off-site pre-self-pay {extra:money}", "异地先行自付 {extra} 元")
IN_SCOPE = _P(
    "pre-self-pay {pre:money}, in scope {scope:money}", "先行自付 {pre} 元，政策范围内 {scope} 元"
)
_BITS: Final[tuple[Phrase, ...]] = (
    NOT_ELIGIBLE,
    CEILING,
    NO_CEILING,
    SELF_PAY_RATIO,
    OFFSITE_EXTRA,
    IN_SCOPE,
)

# The engine's reasons (yibao.engine.settle), phrase by phrase ("; " between phrases): the
# off-site status, a line outside the fund, a rejected claim, the notes.
_REASONS: Final[tuple[Phrase, ...]] = (
    _P("treated in {treated:token}, the insured region", "在参保地 {treated} 就医"),
    _P(
        "treated in {treated:token}, insured in {insured:token}",
        "就医地 {treated}，参保地 {insured}",
    ),
    _P(
        "{type:word} filing to {destination:token} valid {period:period}"
        " covers the date and the region",
        "{type}备案（备案地 {destination}，有效期 {period}）覆盖就医日期和就医地",
    ),
    _P(
        "filing to {destination:token} does not cover region {treated:token}",
        "备案地 {destination} 不含就医地 {treated}",
    ),
    _P(
        "filing valid {period:period} does not cover {day:token}",
        "备案有效期 {period} 不含就医日期 {day}",
    ),
    _P("emergency treatment counts as temporary", "急诊抢救按临时外出就医"),
    _P("no filing and no emergency", "未备案且非急诊"),
    _P("no filing", "未备案"),
    _P(
        "liability {liability:word}: not paid by the fund (Social Insurance Law art. 30)",
        "{liability}，基金不予支付（《社会保险法》第 30 条）",
    ),
    _P("class C (self-pay)", "丙类（自费）"),
    _P("not covered in the {setting:word} setting", "{setting}不予支付"),
    _P(
        "needs a hospital of level {needed:token} or above (this one is {level:token})",
        "须 {needed} 级及以上医院（本院 {level} 级）",
    ),
    _P(
        "no policy for region {region:token}, scheme {scheme:word},"
        " person type {person_type:word} on {day:token}",
        "参保地 {region} 的{scheme}{person_type}人员在 {day} 无适用政策",
    ),
    _P("several policies match ({ids:text})", "多个政策同时适用（{ids}）"),
    _P("the policy data is ambiguous", "政策数据有歧义"),
    _P("policy {policy:token} has no {setting:word} rules", "政策 {policy} 无{setting}待遇规定"),
    _P(
        "local treatment while a long-term {type:word} filing to {destination:token} is valid",
        "{type}备案（备案地 {destination}）有效期内在参保地就医",
    ),
    _P(
        "policy {policy:token} suspends home benefits while filed off-site",
        "政策 {policy} 规定异地长期备案期间暂停参保地待遇",
    ),
    _P("policy {policy:token} has no medical assistance", "政策 {policy} 无医疗救助"),
    _P(
        "liability {liability:word}: every line is outside the fund",
        "{liability}，全部费用基金不予支付",
    ),
    _P(
        "third party unresolved: the fund pays in advance and may recover it",
        "第三方责任未明：基金先行支付，可向第三方追偿",
    ),
)

# Words the engine uses as values, in the agencies' terms.
_WORDS_ZH: Final[Mapping[str, str]] = {
    "inpatient": "住院",
    "outpatient": "门诊",
    "local": "本地就医",
    "long_term": "异地长期",
    "temporary": "异地临时",
    "unfiled": "未备案异地就医",
    "points": "下调百分点",
    "relative": "按比例下调",
    "pre_self_pay": "先行自付",
    "A": "甲类",
    "B": "乙类",
    "C": "丙类",
    "resettled_retiree": "异地安置退休人员",
    "long_term_resident": "异地长期居住人员",
    "posted_worker": "常驻异地工作人员",
    "referral": "异地转诊人员",
    "emergency": "异地急诊抢救人员",
    "other_temporary": "其他临时外出就医人员",
    "work_injury": "工伤",
    "third_party": "第三方责任",
    "public_health": "公共卫生负担",
    "abroad": "境外就医",
    "third_party_unresolved": "第三方责任未明",
    "employee": "职工医保",
    "resident": "居民医保",
    "in_service": "在职",
    "retired": "退休",
    "adult": "成年",
    "minor": "未成年",
    "student": "学生",
    "large_amount": "大额医疗费用补助",
    "critical_illness": "大病保险",
}


class _Chinese:
    """Says English sentences of the phrase book in Chinese; ``misses`` collects what it
    did not know (kept in English)."""

    def __init__(self) -> None:
        self.misses: list[str] = []

    def sentence(self, text: str) -> str:
        for phrase in _SENTENCES:
            slots = phrase.read(text)
            if slots is not None:
                return self._say(phrase, slots)
        return self._reason(text)  # a note of the engine

    def _say(self, phrase: Phrase, slots: Mapping[str, str]) -> str:
        return phrase.zh.format(
            **{name: self._slot(phrase.kinds[name], value) for name, value in slots.items()}
        )

    def _slot(self, kind: str, text: str) -> str:
        if kind == "money":
            return f"{Decimal(text):,.2f}"
        if kind in ("word", "name"):
            return _WORDS_ZH.get(text, text)
        if kind == "period":
            start, _, end = text.partition("..")
            return f"{start} 至 {'长期' if end == 'open' else end}"
        if kind == "reason":
            return self._reason(text)
        if kind == "bits":
            return "；".join(self._one_of(_BITS, bit) for bit in text.split("; "))
        if kind == "pieces":
            if text == "none":
                return "无"
            return "、".join(self._one_of((PIECE,), piece) for piece in text.split(", "))
        return text  # ratio, token, text

    def _reason(self, text: str) -> str:
        if not text:
            return text
        return "；".join(self._one_of(_REASONS, part) for part in text.split("; "))

    def _one_of(self, phrases: Sequence[Phrase], text: str) -> str:
        for phrase in phrases:
            slots = phrase.read(text)
            if slots is not None:
                return self._say(phrase, slots)
        self.misses.append(text)
        return text


def untranslated(lines: Sequence[str]) -> list[str]:
    """The parts of English explanation lines the phrase book does not know (for tests)."""
    chinese = _Chinese()
    for line in lines:
        chinese.sentence(line)
    return chinese.misses
