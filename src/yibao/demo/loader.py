"""Demo data: the regions of the seeds (Beijing insures, Sanya and Baoding treat), their
agencies, institutions, units and persons, the demo policies and catalogs, a few filings,
and one user per role.

Every name and figure is illustrative. Identity numbers are generated with a valid
GB 11643 check character; they belong to nobody.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from yibao.auth.models import User
from yibao.clock import china_today
from yibao.config import get_settings
from yibao.data import demo_path
from yibao.demo.activity import add_history
from yibao.demo.samples import sample_pdf
from yibao.documents import service as documents
from yibao.filings import service as filings
from yibao.identity import make_identity_number
from yibao.nhsa.credentials import issue_credential
from yibao.policies import service as policies
from yibao.registry import service as registry
from yibao.registry.models import Institution, Person
from yibao.users.service import create_user, set_password

ACTOR = "demo"
CATALOG_FROM = date(2026, 1, 1)

REGIONS = [
    ("110000", "北京市"),
    ("460000", "海南省"),
    ("460200", "三亚市"),
    ("130000", "河北省"),
    ("130600", "保定市"),
]

AGENCIES = [
    ("bj_center", "北京市医疗保障事务中心", "insurance_center", "110000"),
    ("bj_street", "北京市朝阳区示范街道社保所", "street_office", "110000"),
    ("bj_treat", "北京市医疗保障局(就医地经办)", "treatment_agency", "110000"),
    ("sy_center", "三亚市医疗保障服务中心", "insurance_center", "460200"),
    ("sy_treat", "三亚市医疗保障局(就医地经办)", "treatment_agency", "460200"),
    ("bd_center", "保定市医疗保障服务中心", "insurance_center", "130600"),
    ("bd_street", "保定市莲池区示范街道社保所", "street_office", "130600"),
    ("bd_treat", "保定市医疗保障局(就医地经办)", "treatment_agency", "130600"),
]

# code, name, region, kind, level, specialty, networked
INSTITUTIONS = [
    ("H110000001", "北京示范第一医院", "110000", "hospital", 3, "general", True),
    ("H110000002", "北京示范肿瘤医院", "110000", "hospital", 3, "specialised", True),
    ("H110000003", "北京朝阳示范医院", "110000", "hospital", 2, "general", True),
    ("H110000004", "北京示范社区卫生服务中心", "110000", "hospital", 1, "general", True),
    ("P110000001", "北京示范大药房", "110000", "pharmacy", None, "general", True),
    ("H460200001", "三亚示范中心医院", "460200", "hospital", 3, "general", True),
    ("H460200002", "三亚示范中医院", "460200", "hospital", 3, "specialised", True),
    ("H460200003", "三亚示范第二人民医院", "460200", "hospital", 2, "general", True),
    ("H460200004", "三亚示范镇卫生院", "460200", "hospital", 1, "general", True),
    ("H460200005", "三亚示范私立医院", "460200", "hospital", 2, "general", False),
    ("P460200001", "三亚示范大药房", "460200", "pharmacy", None, "general", True),
    ("H130600001", "保定示范第一中心医院", "130600", "hospital", 3, "general", True),
    ("H130600002", "保定示范儿童医院", "130600", "hospital", 3, "specialised", True),
    ("H130600003", "保定示范第二医院", "130600", "hospital", 2, "general", True),
    ("H130600004", "保定示范乡镇卫生院", "130600", "hospital", 1, "general", True),
    ("P130600001", "保定示范药房", "130600", "pharmacy", None, "general", True),
]

UNITS = [
    ("bj_tech", "北京示范科技有限公司", "110000"),
    ("bj_works", "北京示范机械厂", "110000"),
    ("sy_hotel", "三亚示范酒店", "460200"),
    ("bd_textile", "保定示范纺织厂", "130600"),
]


@dataclass(frozen=True)
class DemoPerson:
    key: str
    name: str
    address: str  # the identity number's address code (district)
    born: date
    sequence: int  # odd: male, even: female
    scheme: str
    person_type: str
    region: str
    unit: str | None
    balance: Decimal
    card: str
    assistance: bool = False


PERSONS = [
    DemoPerson("wang", "王建国", "110105", date(1956, 4, 12), 31, "employee", "retired",
               "110000", None, Decimal("3256.40"), "BJ1000001"),
    DemoPerson("li", "李秀英", "110105", date(1958, 9, 3), 42, "employee", "retired",
               "110000", None, Decimal("2890.15"), "BJ1000002"),
    DemoPerson("zhang", "张伟", "110108", date(1985, 6, 15), 53, "employee", "in_service",
               "110000", "bj_tech", Decimal("2180.00"), "BJ1000003"),
    DemoPerson("zhang_kid", "张小雨", "110108", date(2015, 3, 28), 64, "resident", "minor",
               "110000", None, Decimal("0"), "BJ1000004"),
    DemoPerson("chen", "陈静", "110101", date(1990, 11, 2), 76, "employee", "in_service",
               "110000", "bj_works", Decimal("1520.60"), "BJ1000005"),
    DemoPerson("liu", "刘洋", "110106", date(1978, 1, 20), 87, "resident", "adult",
               "110000", None, Decimal("0"), "BJ1000006", assistance=True),
    DemoPerson("zhao", "赵国强", "130602", date(1952, 7, 7), 91, "employee", "retired",
               "130600", None, Decimal("1985.30"), "BD2000001"),
    DemoPerson("sun", "孙丽", "130606", date(1983, 5, 9), 12, "resident", "adult",
               "130600", None, Decimal("0"), "BD2000002"),
    DemoPerson("gao", "高志远", "130602", date(1979, 12, 1), 23, "employee", "in_service",
               "130600", "bd_textile", Decimal("980.00"), "BD2000003"),
    DemoPerson("zhou", "周海", "460202", date(1988, 8, 18), 35, "employee", "in_service",
               "460200", "sy_hotel", Decimal("1210.75"), "SY3000001"),
]  # fmt: skip

FAMILY = [("wang", "li", "spouse"), ("zhang", "zhang_kid", "child")]

# One user per role (the printed guide shows these), then a few more for the journeys. Each
# signs in to the pages with its key as the login name and ``demo_password(key)``.
USERS: list[tuple[str, str, str, dict[str, str]]] = [
    ("admin", "平台管理员", "admin", {}),
    ("agency", "北京市医保中心审核员", "agency", {"agency": "bj_center"}),
    ("agency_2", "北京市医保中心复核员", "agency", {"agency": "bj_center"}),
    ("agency_sy", "三亚市医保局清算员", "agency", {"agency": "sy_treat"}),
    ("street_office", "朝阳区街道社保所窗口", "street_office", {"agency": "bj_street"}),
    ("unit", "北京示范科技有限公司经办人", "unit", {"unit": "bj_tech"}),
    ("insured", "王建国", "insured", {"person": "wang"}),
    ("hospital", "三亚示范中心医院医保办", "hospital", {"institution": "H460200001"}),
    ("hospital_sy2", "三亚示范第二人民医院医保办", "hospital", {"institution": "H460200003"}),
    ("hospital_bj", "北京示范第一医院医保办", "hospital", {"institution": "H110000001"}),
    ("agency_bd", "保定市医保中心审核员", "agency", {"agency": "bd_center"}),
    ("agency_bd_2", "保定市医保中心复核员", "agency", {"agency": "bd_center"}),
    ("street_office_bd", "莲池区街道社保所窗口", "street_office", {"agency": "bd_street"}),
    ("pharmacy_sy", "三亚示范大药房", "hospital", {"institution": "P460200001"}),
    ("insured_zhang", "张伟", "insured", {"person": "zhang"}),
    ("insured_chen", "陈静", "insured", {"person": "chen"}),  # the reimbursement journey
]


def demo_password(key: str) -> str:
    """The demo user's password for the pages (printed in the guide; demo data only)."""
    return f"demo-{key}"


MINIMAL_PDF = sample_pdf()


@dataclass
class DemoResult:
    tokens: dict[str, str] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    persons: dict[str, Person] = field(default_factory=dict)
    institutions: dict[str, Institution] = field(default_factory=dict)
    filings: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    today: date = field(default_factory=date.today)
    history: dict[str, int] = field(default_factory=dict)
    # The national interface: each institution's code -> (pass id, secret), shown once.
    gateway: dict[str, tuple[str, str]] = field(default_factory=dict)


def load_demo(
    session: Session,
    *,
    upload_dir: Path,
    today: date | None = None,
    gateway_secret_key: str | None = None,
) -> DemoResult:
    """Fill an empty, migrated database with the demo data. ``gateway_secret_key`` is the
    platform's secret key the national interface's secrets are encrypted with (default:
    the settings' ``YIBAO_SECRET_KEY``, which the server started afterwards reads too)."""
    today = today or china_today()
    result = DemoResult(today=today)
    for code, name in REGIONS:
        registry.create_region(session, code=code, name=name, actor=ACTOR)
    agencies = {
        key: registry.create_agency(session, name=name, kind=kind, region_code=region, actor=ACTOR)
        for key, name, kind, region in AGENCIES
    }
    for code, name, region, kind, level, specialty, networked in INSTITUTIONS:
        result.institutions[code] = registry.create_institution(
            session,
            code=code,
            name=name,
            region_code=region,
            kind=kind,
            level=level,
            specialty=specialty,
            designated=True,
            networked=networked,
            actor=ACTOR,
        )
    units = {
        key: registry.create_unit(session, name=name, region_code=region, actor=ACTOR)
        for key, name, region in UNITS
    }
    for p in PERSONS:
        result.persons[p.key] = registry.register_person(
            session,
            identity_number=make_identity_number(p.address, p.born, p.sequence),
            name=p.name,
            scheme=p.scheme,
            person_type=p.person_type,
            insured_region=p.region,
            unit_id=units[p.unit].id if p.unit else None,
            assistance_eligible=p.assistance,
            card_number=p.card,
            opening_balance=p.balance,
            actor=ACTOR,
        )
    for number, p in enumerate(PERSONS, start=1):  # the registered phones (self-registration)
        result.persons[p.key].phone = f"1380000{number:04d}"
    for a, b, relation in FAMILY:
        registry.link_family(
            session,
            person_id=result.persons[a].id,
            relative_id=result.persons[b].id,
            relation=relation,
            actor=ACTOR,
        )
    policies.load_policy_paths(session, paths=[demo_path("policies")], actor=ACTOR)
    for csv_path in sorted(demo_path("catalogs").glob("*.csv")):
        policies.load_catalog_text(
            session,
            text=csv_path.read_text(encoding="utf-8"),
            source=f"catalogs/{csv_path.name}",
            effective_from=CATALOG_FROM,
            actor=ACTOR,
        )
    for key, name, role, scope in USERS:
        kwargs: dict[str, Any] = {}
        if "agency" in scope:
            kwargs["agency_id"] = agencies[scope["agency"]].id
        if "unit" in scope:
            kwargs["unit_id"] = units[scope["unit"]].id
        if "person" in scope:
            kwargs["person_id"] = result.persons[scope["person"]].id
        if "institution" in scope:
            kwargs["institution_id"] = result.institutions[scope["institution"]].id
        issued = create_user(session, name=name, role=role, actor=ACTOR, **kwargs)
        set_password(
            session, user_id=issued.user.id, password=demo_password(key), login=key, actor=ACTOR
        )
        result.users[key] = issued.user
        result.tokens[key] = issued.token
    _demo_filings(session, result, upload_dir=upload_dir, today=today)
    result.history = add_history(
        session,
        users=result.users,
        persons={key: person.id for key, person in result.persons.items()},
        institutions={code: inst.id for code, inst in result.institutions.items()},
        upload_dir=upload_dir,
        today=today,
        notes=result.notes,
    )
    _gateway_credentials(session, result, secret_key=gateway_secret_key)
    return result


def _demo_filings(session: Session, result: DemoResult, *, upload_dir: Path, today: date) -> None:
    """A few filings through the filing service: one approved, one waiting for review."""
    users, persons, inst = result.users, result.persons, result.institutions

    def attempt(key: str, build: Callable[[], int]) -> None:
        try:
            with session.begin_nested():
                result.filings[key] = build()
        except Exception as exc:  # a demo filing must never stop the demo
            result.notes.append(f"demo filing {key!r} not created: {exc}")

    def upload(filing_id: int, actor: User, *doc_types: str) -> None:
        for doc_type in doc_types:
            pdf = documents.Upload(
                doc_type=doc_type,
                filename=f"{doc_type}.pdf",
                content_type="application/pdf",
                data=MINIMAL_PDF,
                upload_dir=upload_dir,
                max_bytes=10 * 1024 * 1024,
            )
            filings.upload_document(session, actor=actor, filing_id=filing_id, upload=pdf)

    def resettled() -> int:
        # 王建国 retired to Sanya: the street office files, both chosen hospitals' medical
        # insurance offices stamp the form (seed 000), the Beijing center approves.
        desk, reviewer = users["street_office"], users["agency"]
        filing = filings.create_filing(
            session,
            actor=desk,
            request=filings.FilingRequest(
                person_id=persons["wang"].id,
                category="resettled_retiree",
                destination="460200",
                requested_start=today,
                hospital_ids=[inst["H460200001"].id, inst["H460200003"].id],
            ),
            today=today,
        )
        upload(filing.id, desk, "identity_copy", "residence_proof", "retirement_certificate")
        stamped_at = datetime.combine(today, datetime.min.time(), UTC)
        for hospital in ("hospital", "hospital_sy2"):
            filings.stamp_hospital(
                session, actor=users[hospital], filing_id=filing.id, now=stamped_at
            )
        filings.submit_filing(session, actor=desk, filing_id=filing.id, today=today)
        filings.approve_filing(session, actor=reviewer, filing_id=filing.id, today=today)
        return filing.id

    def posted() -> int:
        # 陈静 posted to Baoding by her unit: submitted, waiting in the review queue.
        desk = users["street_office"]
        filing = filings.create_filing(
            session,
            actor=desk,
            request=filings.FilingRequest(
                person_id=persons["chen"].id,
                category="posted_worker",
                destination="130600",
                requested_start=today,
                hospital_ids=[inst["H130600001"].id],
            ),
            today=today,
        )
        upload(filing.id, desk, "identity_copy", "employment_proof")
        filings.submit_filing(session, actor=desk, filing_id=filing.id, today=today)
        return filing.id

    def emergency() -> int:
        # 孙丽 (Baoding) fell ill in Sanya; the hotline approved, filed afterwards (补办) at
        # her street office; the Baoding centre approves (never the user who filed it).
        desk, reviewer = users["street_office_bd"], users["agency_bd"]
        called = datetime.combine(today - timedelta(days=3), datetime.min.time(), UTC)
        filing = filings.create_filing(
            session,
            actor=desk,
            request=filings.FilingRequest(
                person_id=persons["sun"].id,
                category="emergency",
                destination="460200",
                hotline_reference="BD-HOTLINE-0001",
                hotline_called_at=called,
                treatment_start=today - timedelta(days=3),
            ),
            today=today,
        )
        upload(filing.id, desk, "identity_copy", "emergency_record")
        filings.submit_filing(session, actor=desk, filing_id=filing.id, today=today)
        filings.approve_filing(session, actor=reviewer, filing_id=filing.id, today=today)
        return filing.id

    attempt("resettled_retiree", resettled)
    attempt("posted_worker", posted)
    attempt("emergency", emergency)


def _gateway_credentials(session: Session, result: DemoResult, *, secret_key: str | None) -> None:
    """A pass id and secret for each hospital and pharmacy (the national interface,
    docs/nhsa.md): the pass id is fixed (``demo-`` and the code), the secret random."""
    key = secret_key if secret_key is not None else get_settings().secret_key
    for code, institution in result.institutions.items():
        issued = issue_credential(
            session,
            institution_id=institution.id,
            secret_key=key,
            pass_id=f"demo-{code.lower()}",
            actor=ACTOR,
        )
        result.gateway[code] = (issued.pass_id, issued.secret)
