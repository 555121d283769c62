"""The printed demo guide: a login per user for the pages, a token per role, and requests
ready to paste."""

from __future__ import annotations

from pathlib import Path

from yibao.demo.loader import USERS, DemoResult, demo_password
from yibao.identity import mask_identity_number

ROLE_KEYS = ("admin", "agency", "street_office", "unit", "insured", "hospital")


def render_guide(result: DemoResult, *, base: str, db_file: Path) -> str:
    p, inst, f = result.persons, result.institutions, result.filings
    tokens = result.tokens
    lines = [
        "# Yibao demo",
        "",
        f"Database: {db_file} (fresh). API: {base}/api/v1 — OpenAPI: {base}/docs",
        "",
        f"## Pages: sign in at {base}/login",
        "",
        "The pages are in Chinese; the switch at the top right (or `?lang=en`) shows them in",
        "English. Each role has its menu at the top; docs/guide/ has a page per audience with",
        "pictures. The demo holds four months of history: 李秀英 (Beijing) and 赵国强 (Baoding)",
        "moved to Sanya and were treated there every month, and 李秀英's manual claim waits in",
        "the Beijing centre's queue.",
        "",
        "| login | password | who |",
        "|---|---|---|",
        *(
            f"| {key} | {demo_password(key)} | {name} ({role}) |"
            for key, name, role, _scope in USERS
        ),
        "",
        "## Walk-throughs",
        "",
        "- **参保人 (insured, `insured`)**: 我的首页 shows the account with family sharing, the",
        "  filings, settlements and claims; open a settlement for the waterfall from the bill to",
        "  the cash paid; 我的备案 → 申请异地就医备案 applies online (a commitment instead of",
        "  documents where the region allows it); 定点医药机构 searches the hospitals of Sanya.",
        f"- **医院窗口 (hospital, `hospital`)**: 医保窗口 → card {p['wang'].card_number} →",
        "  登记 with a deposit → add the lines S0005 × 5 at 30 and D0009 × 40 at 65.10 →",
        "  预结算 → 结算 → 结算单 (print or PDF); 结算 lists today's settlements, where one is",
        "  reversed with a reason; 对账 compares the hospital's totals or details; 转诊 stamps",
        "  a referral form.",
        "- **街道社保所 (street office, `street_office`)**: 备案 → file for a person of the",
        "  district by identity number, e.g. a resettlement with three Sanya hospitals.",
        "- **经办机构 (agency, `agency`; second reviewer `agency_2`)**: 备案审核 holds 陈静's",
        "  filing; 报销审核 holds 李秀英's claim (documents inline, findings, approve / return /",
        "  reject); 清算 builds last month and asks to confirm it, which `agency_2` approves",
        "  under 复核; 基金看板 charts the year and shows Beijing's advance fund (预付金) in",
        "  预警 (over 70 % in use): record a new amount, `agency_2` approves it under 复核;",
        "  政策 shows the policies and catalogs in force.",
        "- **管理员 (admin, `admin`)**: 用户 creates users and resets passwords; 机构, 统筹区,",
        "  参保单位.",
        "- **注册 (register)**: an insured person without a login registers at /register with",
        "  the identity number and a one-time code sent to the registered phone; the demo",
        "  prints the code in the server's log (e.g. 李秀英, identity number "
        f"{p['li'].identity_number}).",
        "- **验证 (verify)**: every printed certificate, slip, decision letter and statement",
        "  carries a code; anyone checks it at /verify.",
        "",
        "## Tokens (one per role; shown here only)",
        "",
        "```sh",
        f"export YIBAO={base}/api/v1",
    ]
    for key in ROLE_KEYS:
        user = result.users[key]
        lines.append(f"export {key.upper()}={tokens[key]}   # {user.name}")
    lines += [
        f"export HOSPITAL_BJ={tokens['hospital_bj']}   # {result.users['hospital_bj'].name}",
        f"export AGENCY_2={tokens['agency_2']}   # {result.users['agency_2'].name}",
        f"export AGENCY_SY={tokens['agency_sy']}   # {result.users['agency_sy'].name}",
        f"export AGENCY_BD={tokens['agency_bd']}   # {result.users['agency_bd'].name}",
        f"export PHARMACY={tokens['pharmacy_sy']}   # {result.users['pharmacy_sy'].name}",
        "```",
        "",
        "## Who is who",
        "",
    ]
    for key in ("wang", "li", "zhang", "chen", "sun", "zhou"):
        person = p[key]
        lines.append(
            f"- person {person.id} {person.name}: {person.scheme}/{person.person_type}, insured in "
            f"{person.insured_region}, card {person.card_number}, identity "
            f"{mask_identity_number(person.identity_number)}"
        )
    lines.append(
        f"- hospital {inst['H460200001'].id} {inst['H460200001'].name} (level 3, Sanya); "
        f"hospital {inst['H110000001'].id} {inst['H110000001'].name} (level 3, Beijing)"
    )
    for key, filing_id in f.items():
        lines.append(f"- filing {filing_id}: {key}")
    wang = p["wang"].id
    resettled = f.get("resettled_retiree", 1)
    today = result.today.isoformat()
    lines += [
        "",
        "## Try",
        "",
        "```sh",
        "# who am I",
        'curl -s -H "Authorization: Bearer $INSURED" $YIBAO/me',
        "# my own record: the identity number in full for me",
        f'curl -s -H "Authorization: Bearer $INSURED" $YIBAO/persons/{wang}',
        "# my personal account: balance and every movement",
        f'curl -s -H "Authorization: Bearer $INSURED" $YIBAO/persons/{wang}/account',
        "# the street office lists persons of its region (identity numbers masked)",
        'curl -s -H "Authorization: Bearer $STREET_OFFICE" $YIBAO/persons',
        "# another person's data is refused (403, problem+json)",
        f'curl -s -H "Authorization: Bearer $INSURED" $YIBAO/persons/{p["zhang"].id}',
        "# networked hospitals of Sanya",
        'curl -s -H "Authorization: Bearer $INSURED" '
        '"$YIBAO/institutions?region=460200&networked=true"',
        "# the Sanya hospital looks up a patient by card (body, never the URL)",
        "curl -s -H \"Authorization: Bearer $HOSPITAL\" -H 'content-type: application/json' "
        f'-X POST $YIBAO/persons/lookup -d \'{{"card_number": "{p["wang"].card_number}"}}\'',
        "# the Beijing reviewer's queue and the approved resettlement's certificate",
        'curl -s -H "Authorization: Bearer $AGENCY" $YIBAO/filings/queue',
        f'curl -s -H "Authorization: Bearer $INSURED" $YIBAO/filings/{resettled}/certificate',
        f'curl -s -H "Authorization: Bearer $INSURED" -o certificate.pdf '
        f"$YIBAO/filings/{resettled}/certificate.pdf",
        "# policies in force and the Sanya catalog",
        'curl -s -H "Authorization: Bearer $AGENCY" "$YIBAO/policies?region=110000&on=2026-07-01"',
        'curl -s -H "Authorization: Bearer $HOSPITAL" '
        '"$YIBAO/catalogs/460200/items?on=2026-07-01&limit=5"',
        "# the audit log (admins): who changed what, before -> after",
        'curl -s -H "Authorization: Bearer $ADMIN" "$YIBAO/audit?limit=5"',
        "```",
        "",
        "## Direct settlement at the Sanya hospital window",
        "",
        f"{p['wang'].name} is filed as a resettled retiree to Sanya from {today}: admit him,",
        "upload the fee details, pre-settle (nothing is stored), then settle at discharge.",
        "Send the settle request twice with the same Idempotency-Key: the second answer is the",
        "first one, and nothing is counted twice.",
        "",
        "```sh",
        "JSON='content-type: application/json'",
        "getid() { python3 -c 'import json,sys; print(json.load(sys.stdin)[\"id\"])'; }",
        'ENC=$(curl -s -H "Authorization: Bearer $HOSPITAL" -H "$JSON" -X POST $YIBAO/encounters '
        f'-d \'{{"card_number": "{p["wang"].card_number}", "setting": "inpatient", '
        f'"started_on": "{today}", "deposit": "5000.00", "hospital_ref": "ZY-0001"}}\' | getid)',
        'curl -s -H "Authorization: Bearer $HOSPITAL" -H "$JSON" -X POST '
        "$YIBAO/encounters/$ENC/fees "
        '-d \'{"lines": [{"line_id": "L1", "code": "S0005", "quantity": "5", "unit_price": "30"}, '
        '{"line_id": "L2", "code": "D0009", "quantity": "40", "unit_price": "65.10"}, '
        '{"line_id": "L3", "code": "F0010", "quantity": "5", "unit_price": "20"}]}\'',
        'curl -s -H "Authorization: Bearer $HOSPITAL" -H "$JSON" -X POST '
        f'$YIBAO/encounters/$ENC/pre-settle -d \'{{"on": "{today}"}}\'',
        'SETTLEMENT=$(curl -s -H "Authorization: Bearer $HOSPITAL" -H "$JSON" '
        "-H 'Idempotency-Key: demo-1' "
        f'-X POST $YIBAO/encounters/$ENC/settle -d \'{{"on": "{today}", "msg_id": "M-0001"}}\' '
        "| getid)",
        "# the person's own view, explained line by line",
        'curl -s -H "Authorization: Bearer $INSURED" $YIBAO/settlements',
        'curl -s -H "Authorization: Bearer $INSURED" $YIBAO/settlements/$SETTLEMENT',
        "# the hospital reverses it (冲正); accumulators and the account are restored",
        'curl -s -H "Authorization: Bearer $HOSPITAL" -H "$JSON" -H \'Idempotency-Key: demo-2\' '
        '-X POST $YIBAO/settlements/$SETTLEMENT/reverse -d \'{"reason": "wrong ward"}\'',
        "```",
        "",
        "## Four eyes (双人复核)",
        "",
        "Money no engine computed waits for a second person: the reviewer asks to credit an",
        "account by hand (202, pending); the same reviewer cannot approve it; a colleague of",
        "the same centre does, and only then does the balance move. Who may see and do what:",
        "docs/access.md.",
        "",
        "```sh",
        'curl -s -H "Authorization: Bearer $AGENCY" -H "$JSON" -X POST '
        f"$YIBAO/persons/{wang}/account/movements "
        '-d \'{"amount": "100.00", "kind": "contribution", "ref": "单位补缴"}\'',
        "APPROVAL=1   # the id in the answer above",
        'curl -s -H "Authorization: Bearer $AGENCY" -X POST $YIBAO/approvals/$APPROVAL/approve'
        "   # 403",
        'curl -s -H "Authorization: Bearer $AGENCY_2" $YIBAO/approvals',
        'curl -s -H "Authorization: Bearer $AGENCY_2" -X POST $YIBAO/approvals/$APPROVAL/approve',
        f'curl -s -H "Authorization: Bearer $INSURED" $YIBAO/persons/{wang}/account',
        "# the treatment region's agency sees only the statements owed to it",
        f'curl -s -H "Authorization: Bearer $AGENCY_SY" -X POST $YIBAO/clearing/months/{today[:7]}',
        "```",
    ]
    lines += _national_interface(result, base=base)
    lines += _fhir(result, base=base)
    if result.notes:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in result.notes]
    return "\n".join(lines) + "\n"


def _national_interface(result: DemoResult, *, base: str) -> list[str]:
    """The national interface (docs/nhsa.md): a pass id and secret per institution and a
    ready-to-run HIS exchange (examples/his_2304.py signs and sends a 2304 sequence)."""
    if not result.gateway:
        return []
    out = [
        "",
        "## The national interface (国家医保信息平台 定点医药机构接口)",
        "",
        f"HIS systems post one envelope per transaction to {base}/fsi/api/rsfComIfsService/"
        "callService, signed with their pass id and secret (docs/nhsa.md). One line per",
        "institution: fixmedins_code, pass id (x-tif-paasid), secret (shown here only).",
        "",
        "```",
    ]
    for code, (pass_id, secret) in result.gateway.items():
        institution = result.institutions[code]
        out.append(f"{code}  {pass_id}  {secret}   # {institution.name}")
    out.append("```")
    hospital = "H460200001"
    if hospital in result.gateway and "wang" in result.persons:
        pass_id, secret = result.gateway[hospital]
        card = result.persons["wang"].card_number
        out += [
            "",
            f"A HIS at {result.institutions[hospital].name} admits {result.persons['wang'].name}",
            "and settles the stay: 9001 → 1101 → 2401 → 2301 → 2303 → 2304, each answer printed",
            "(standard library and httpx only):",
            "",
            "```sh",
            f"python examples/his_2304.py --base {base} --code {hospital} \\",
            f"    --pass-id {pass_id} --secret={secret} --card {card}",
            "```",
        ]
    return out


def _fhir(result: DemoResult, *, base: str) -> list[str]:
    """FHIR R4 (docs/fhir.md): the capability statement, a patient search, and a ready-to-run
    ``Claim/$submit`` with a FHIR client library."""
    hospital = "H460200001"
    if hospital not in result.institutions or "wang" not in result.persons:
        return []
    card = result.persons["wang"].card_number
    return [
        "",
        "## FHIR R4",
        "",
        f"{base}/fhir/R4 speaks FHIR R4 (JSON) with the same tokens (docs/fhir.md): Patient,",
        "Coverage, CoverageEligibilityRequest/$submit, Claim/$submit, ExplanationOfBenefit,",
        "PaymentReconciliation. The Sanya hospital pre-settles and settles a stay with",
        "fhirpy (pip install fhirpy), then reads the ExplanationOfBenefit:",
        "",
        "```sh",
        f"curl -s {base}/fhir/R4/metadata",
        'curl -s -H "Authorization: Bearer $HOSPITAL" '
        f'"{base}/fhir/R4/Patient?identifier=urn:yibao:fhir:NamingSystem:insurance-card|{card}"',
        f"python examples/fhir_claim_submit.py --base {base} \\",
        f"    --token {result.tokens['hospital']} --card {card} --institution {hospital}",
        "```",
    ]
