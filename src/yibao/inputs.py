"""Reading policies (YAML), catalogs (CSV) and claims (JSON) into the engine's types.

Every file goes through a typed Pydantic model first; any problem becomes one
:class:`~yibao.errors.InvalidInput` naming the file, the key or line, and the reason.
Numbers are read as decimals from their text, never through a binary float.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    model_validator,
)

from yibao.engine import models as m
from yibao.errors import InvalidInput
from yibao.money import parse_decimal

# --- scalar types -------------------------------------------------------------------------


def _decimal(places: int | None, check: Callable[[Decimal], Decimal]) -> Any:
    def parse(value: Any) -> Decimal:
        return check(parse_decimal(value, max_places=places))

    return parse


def _non_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _ratio(value: Decimal) -> Decimal:
    if not Decimal(0) <= value <= Decimal(1):
        raise ValueError(f"ratio {value} is outside [0, 1]")
    return value


_REGION = re.compile(r"[1-9]\d{5}")


def _region(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError("expected a six-digit region code (GB/T 2260)")
    text = str(value).strip()
    if not _REGION.fullmatch(text):
        raise ValueError(f"{text!r} is not a six-digit region code (GB/T 2260)")
    return text


def _day(value: Any) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")


def _level(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected a hospital level 1, 2 or 3")
    try:
        level = int(str(value).strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a hospital level (1, 2 or 3)") from None
    if level not in m.LEVELS:
        raise ValueError(f"{value!r} is not a hospital level (1, 2 or 3)")
    return level


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError("expected text")
    text = str(value).strip()
    if not text:
        raise ValueError("must not be empty")
    return text


# Each scalar is read by one function of its own (a PlainValidator): what it returns is
# already the finished value, so Pydantic's own decimal/str/date check after it would only
# repeat the work, and a claim file has hundreds of thousands of these fields.
def _scalar(kind: type, read: Callable[[Any], Any]) -> PlainValidator:
    return PlainValidator(read, json_schema_input_type=kind)


Money = Annotated[Decimal, _scalar(str, _decimal(2, _non_negative))]
Amount = Annotated[Decimal, _scalar(str, _decimal(None, _non_negative))]
Quantity = Annotated[Decimal, _scalar(str, _decimal(4, _non_negative))]
Ratio = Annotated[Decimal, _scalar(str, _decimal(None, _ratio))]
Factor = Annotated[Decimal, _scalar(str, _decimal(None, _non_negative))]
Region = Annotated[str, _scalar(str, _region)]
Day = Annotated[date, _scalar(str, _day)]
Level = Annotated[int, _scalar(int, _level)]
Text = Annotated[str, _scalar(str, _text)]


def _by_level(values: dict[int, Decimal], what: str) -> dict[int, Decimal]:
    missing = [str(level) for level in m.LEVELS if level not in values]
    if missing:
        raise ValueError(f"{what} misses hospital level {', '.join(missing)}")
    return values


LevelRatios = Annotated[dict[Level, Ratio], AfterValidator(lambda v: _by_level(v, "ratio"))]
LevelAmounts = Annotated[dict[Level, Amount], AfterValidator(lambda v: _by_level(v, "by_level"))]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


def _increasing(ups: Sequence[Decimal | None], start: Decimal | None = None) -> None:
    previous = start
    for index, up_to in enumerate(ups):
        if up_to is None:
            if index != len(ups) - 1:
                raise ValueError(f"band {index} is unbounded (up_to: null) but is not the last")
            continue
        if previous is not None and up_to <= previous:
            raise ValueError(
                f"bands do not increase: band {index} up_to {up_to} is not above {previous}"
            )
        previous = up_to


# --- policy -------------------------------------------------------------------------------


class DeductibleIn(_Strict):
    mode: Literal["annual", "per_admission"]
    amount: Amount | None = None
    by_level: LevelAmounts | None = None
    later_admissions_factor: Factor = Decimal(1)

    @model_validator(mode="after")
    def _mode_fields(self) -> DeductibleIn:
        if self.mode == "annual" and self.amount is None:
            raise ValueError("mode annual needs amount")
        if self.mode == "per_admission" and self.by_level is None:
            raise ValueError("mode per_admission needs by_level")
        return self


class BandIn(_Strict):
    up_to: Amount | None
    ratio: LevelRatios


class SettingIn(_Strict):
    deductible: DeductibleIn
    bands: list[BandIn] = Field(min_length=1)
    band_basis: Literal["annual", "per_claim"] = "annual"
    annual_cap: Amount | None = None

    @model_validator(mode="after")
    def _bands_increase(self) -> SettingIn:
        _increasing([band.up_to for band in self.bands])
        return self


class OffsiteIn(_Strict):
    ratio_reduction: dict[Literal["long_term", "temporary", "unfiled"], Ratio] = {}
    reduction_mode: Literal["points", "relative", "pre_self_pay"] = "points"
    home_benefits_while_filed: bool = True


class SupplementaryBandIn(_Strict):
    up_to: Amount | None
    ratio: Ratio


class SupplementaryIn(_Strict):
    name: Text
    settings: list[Literal["inpatient", "outpatient"]] | None = None
    threshold: Amount = Decimal(0)
    bands: list[SupplementaryBandIn] = Field(min_length=1)
    annual_cap: Amount | None = None

    @model_validator(mode="after")
    def _bands_increase(self) -> SupplementaryIn:
        _increasing([band.up_to for band in self.bands], self.threshold)
        return self


class AssistanceIn(_Strict):
    ratio: Ratio
    annual_cap: Amount | None = None


class AccountIn(_Strict):
    pays: list[Literal["in_scope_personal", "pre_self_pay", "over_limit_self_pay", "full_self_pay"]]
    family_sharing: bool = False


class PolicyIn(_Strict):
    id: Text
    region: Region
    scheme: Literal["employee", "resident"]
    person_types: list[Text] = Field(min_length=1)
    effective_from: Day
    effective_to: Day | None = None
    inpatient: SettingIn | None = None
    outpatient: SettingIn | None = None
    offsite: OffsiteIn = OffsiteIn()
    supplementary: list[SupplementaryIn] = []
    assistance: AssistanceIn | None = None
    account: AccountIn | None = None

    @model_validator(mode="after")
    def _coherent(self) -> PolicyIn:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        if self.inpatient is None and self.outpatient is None:
            raise ValueError("a policy needs inpatient or outpatient rules")
        names = [item.name for item in self.supplementary]
        if len(set(names)) != len(names):
            raise ValueError("supplementary names must be unique")
        return self


def _setting_rules(data: SettingIn | None) -> m.SettingRules | None:
    if data is None:
        return None
    ded = data.deductible
    return m.SettingRules(
        deductible=m.Deductible(
            mode=ded.mode,
            amount=ded.amount if ded.amount is not None else Decimal(0),
            by_level=dict(ded.by_level or {}),
            later_admissions_factor=ded.later_admissions_factor,
        ),
        bands=tuple(m.Band(up_to=b.up_to, ratio=dict(b.ratio)) for b in data.bands),
        band_basis=data.band_basis,
        annual_cap=data.annual_cap,
    )


def policy_from_model(data: PolicyIn, source: str = "") -> m.Policy:
    return m.Policy(
        id=data.id,
        region=data.region,
        scheme=data.scheme,
        person_types=frozenset(data.person_types),
        effective_from=data.effective_from,
        effective_to=data.effective_to,
        inpatient=_setting_rules(data.inpatient),
        outpatient=_setting_rules(data.outpatient),
        offsite=m.OffsiteRules(
            ratio_reduction={str(k): v for k, v in data.offsite.ratio_reduction.items()},
            reduction_mode=data.offsite.reduction_mode,
            home_benefits_while_filed=data.offsite.home_benefits_while_filed,
        ),
        supplementary=tuple(
            m.Supplementary(
                name=item.name,
                settings=frozenset(item.settings if item.settings is not None else m.SETTINGS),
                threshold=item.threshold,
                bands=tuple(m.SupplementaryBand(b.up_to, b.ratio) for b in item.bands),
                annual_cap=item.annual_cap,
            )
            for item in data.supplementary
        ),
        assistance=(
            m.Assistance(ratio=data.assistance.ratio, annual_cap=data.assistance.annual_cap)
            if data.assistance is not None
            else None
        ),
        account=(
            m.AccountRules(
                pays=frozenset(data.account.pays), family_sharing=data.account.family_sharing
            )
            if data.account is not None
            else None
        ),
        source=source,
    )


class _DecimalLoader(yaml.SafeLoader):
    """YAML without binary floats: a float scalar becomes a Decimal read from its text."""


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    text = str(loader.construct_scalar(node))  # type: ignore[arg-type]
    return Decimal(text.replace("_", ""))


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


def _yaml(text: str, source: str) -> Any:
    try:
        return yaml.load(text, Loader=_DecimalLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InvalidInput(source, where, f"invalid YAML: {problem}") from None


def _loc(loc: Sequence[int | str], prefix: str = "") -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith("function-") or str(part).startswith("function_"):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def _invalid(source: str, exc: ValidationError, prefix: str = "") -> InvalidInput:
    error = exc.errors()[0]
    loc = list(error["loc"])
    msg = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        key = loc.pop() if loc else "?"
        msg = f"unknown key {key!r}"
        where = _loc(loc, prefix) or "top level"
        return InvalidInput(source, where, msg)
    if error["type"] == "missing":
        key = loc.pop() if loc else "?"
        where = _loc(loc, prefix) or "top level"
        return InvalidInput(source, where, f"missing key {key!r}")
    return InvalidInput(source, _loc(loc, prefix) or "top level", msg)


def parse_policy_text(text: str, source: str) -> m.Policy:
    """A policy YAML document into the engine's :class:`~yibao.engine.models.Policy`."""
    data = _yaml(text, source)
    if not isinstance(data, dict):
        raise InvalidInput(source, "top level", "a policy must be a YAML mapping")
    try:
        model = PolicyIn.model_validate(data)
    except ValidationError as exc:
        raise _invalid(source, exc) from None
    return policy_from_model(model, source)


# --- catalog ------------------------------------------------------------------------------

CATALOG_COLUMNS = (
    "region",
    "code",
    "name",
    "kind",
    "class",
    "self_pay_ratio",
    "price_ceiling",
    "settings",
    "min_level",
)


class CatalogRowIn(_Lenient):
    region: Region
    code: Text
    name: Text
    kind: Literal["drug", "service", "material", "facility"]
    item_class: Literal["A", "B", "C"] = Field(alias="class")
    self_pay_ratio: Ratio | None = None
    price_ceiling: Amount | None = None
    settings: Literal["inpatient", "outpatient", "both"] = "both"
    min_level: Level | None = None

    @model_validator(mode="after")
    def _b_ratio(self) -> CatalogRowIn:
        if self.item_class == "B" and self.self_pay_ratio is None:
            raise ValueError("class B needs a self_pay_ratio")
        if self.item_class != "B" and self.self_pay_ratio:
            raise ValueError(f"self_pay_ratio is for class B only (class {self.item_class})")
        return self


def parse_catalog_text(text: str, source: str) -> list[m.CatalogItem]:
    """A catalog CSV into catalog items; ``(region, code)`` must be unique."""
    text = text.removeprefix("\ufeff")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [col for col in CATALOG_COLUMNS if col not in header]
    if missing:
        raise InvalidInput(source, "line 1 (header)", f"missing column(s) {', '.join(missing)}")
    items: list[m.CatalogItem] = []
    seen: dict[tuple[str, str], int] = {}
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                raise InvalidInput(source, f"line {line}", "more fields than the header")
            clean = {
                key: (value.strip() if isinstance(value, str) else value)
                for key, value in row.items()
            }
            clean = {key: value for key, value in clean.items() if value not in ("", None)}
            try:
                parsed = CatalogRowIn.model_validate(clean)
            except ValidationError as exc:
                error = exc.errors()[0]
                column = ".".join(str(p) for p in error["loc"])
                where = f"line {line}" + (f", column {column}" if column else "")
                reason = error["msg"].removeprefix("Value error, ")
                if error["type"] == "missing":
                    reason = "empty value"
                code = clean.get("code")
                raise InvalidInput(
                    source, where + (f" (code {code})" if code else ""), reason
                ) from None
            key = (parsed.region, parsed.code)
            if key in seen:
                raise InvalidInput(
                    source,
                    f"line {line}",
                    f"duplicate code {parsed.code} for region {parsed.region} "
                    f"(first on line {seen[key]})",
                )
            seen[key] = line
            items.append(
                m.CatalogItem(
                    region=parsed.region,
                    code=parsed.code,
                    name=parsed.name,
                    kind=parsed.kind,
                    item_class=parsed.item_class,
                    self_pay_ratio=parsed.self_pay_ratio or Decimal(0),
                    price_ceiling=parsed.price_ceiling,
                    settings=frozenset(
                        m.SETTINGS if parsed.settings == "both" else (parsed.settings,)
                    ),
                    min_level=parsed.min_level,
                )
            )
    except csv.Error as exc:
        raise InvalidInput(source, f"line {reader.line_num}", f"invalid CSV: {exc}") from None
    return items


# --- claims -------------------------------------------------------------------------------


class SettingYtdIn(_Lenient):
    in_scope_cum: Money = Decimal(0)
    deductible_met: Money = Decimal(0)
    pool_paid_cum: Money = Decimal(0)
    admissions: Annotated[int, Field(ge=0, strict=True)] = 0


class SupplementaryYtdIn(_Lenient):
    base_cum: Money = Decimal(0)
    paid_cum: Money = Decimal(0)


class YearToDateIn(_Lenient):
    inpatient: SettingYtdIn = SettingYtdIn()
    outpatient: SettingYtdIn = SettingYtdIn()
    supplementary: dict[str, SupplementaryYtdIn] = {}
    assistance_paid_cum: Money = Decimal(0)


class PersonIn(_Lenient):
    id: Text
    insured_region: Region
    scheme: Literal["employee", "resident"]
    person_type: Text
    assistance_eligible: bool = False
    account_balance: Money = Decimal(0)
    year_to_date: YearToDateIn | None = None


class InstitutionIn(_Lenient):
    id: Text
    region: Region
    level: Level


class FilingIn(_Lenient):
    type: Literal[
        "resettled_retiree",
        "long_term_resident",
        "posted_worker",
        "minor_with_parents",
        "resident_mother_postnatal",
        "referral",
        "emergency",
        "other_temporary",
    ]
    destination: Region
    valid_from: Day
    valid_to: Day | None = None


class LineIn(_Lenient):
    code: Text
    quantity: Quantity
    unit_price: Quantity
    line_id: Text | None = None


class ClaimIn(_Lenient):
    claim_id: Text
    date: Day
    setting: Literal["inpatient", "outpatient"]
    person: PersonIn
    institution: InstitutionIn
    filing: FilingIn | None = None
    emergency: bool = False
    liability: (
        Literal["work_injury", "third_party", "public_health", "abroad", "third_party_unresolved"]
        | None
    ) = None
    lines: list[LineIn]


def _setting_ytd(data: SettingYtdIn) -> m.SettingAccumulator:
    return m.SettingAccumulator(
        in_scope_cum=data.in_scope_cum,
        deductible_met=data.deductible_met,
        pool_paid_cum=data.pool_paid_cum,
        admissions=data.admissions,
    )


def claim_from_model(data: ClaimIn) -> m.Claim:
    person = data.person
    ytd = person.year_to_date
    filing = data.filing
    return m.Claim(
        claim_id=data.claim_id,
        date=data.date,
        setting=data.setting,
        person=m.PersonInfo(
            id=person.id,
            insured_region=person.insured_region,
            scheme=person.scheme,
            person_type=person.person_type,
            assistance_eligible=person.assistance_eligible,
            account_balance=person.account_balance,
            year_to_date=(
                m.YearAccumulators(
                    year=data.date.year,
                    inpatient=_setting_ytd(ytd.inpatient),
                    outpatient=_setting_ytd(ytd.outpatient),
                    supplementary={
                        name: m.SupplementaryAccumulator(s.base_cum, s.paid_cum)
                        for name, s in ytd.supplementary.items()
                    },
                    assistance_paid_cum=ytd.assistance_paid_cum,
                )
                if ytd is not None
                else None
            ),
        ),
        institution=m.InstitutionInfo(
            id=data.institution.id, region=data.institution.region, level=data.institution.level
        ),
        lines=tuple(
            m.ClaimLine(
                code=ln.code, quantity=ln.quantity, unit_price=ln.unit_price, line_id=ln.line_id
            )
            for ln in data.lines
        ),
        filing=(
            m.FilingInfo(
                type=filing.type,
                destination=filing.destination,
                valid_from=filing.valid_from,
                valid_to=filing.valid_to,
            )
            if filing is not None
            else None
        ),
        emergency=data.emergency,
        liability=data.liability,
    )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def parse_json_text(text: str, source: str) -> Any:
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            source, f"line {exc.lineno}, column {exc.colno}", f"invalid JSON: {exc.msg}"
        ) from None
    except ValueError as exc:
        raise InvalidInput(source, "", f"invalid JSON: {exc}") from None


def parse_claims_text(text: str, source: str) -> list[m.Claim]:
    """One claim object or a list of them, in order."""
    data = parse_json_text(text, source)
    items = data if isinstance(data, list) else [data]
    claims = []
    for index, item in enumerate(items):
        prefix = f"[{index}]" if isinstance(data, list) else ""
        if not isinstance(item, dict):
            raise InvalidInput(source, prefix or "top level", "a claim must be a JSON object")
        try:
            model = ClaimIn.model_validate(item)
        except ValidationError as exc:
            raise _invalid(source, exc, prefix) from None
        claims.append(claim_from_model(model))
    return claims
