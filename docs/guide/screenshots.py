"""Copy the user guides' pictures out of a browser-test run (docs/guide/img/).

The browser tests (tests/browser/) save a screenshot of every page they visit under
``$YIBAO_SCREENSHOTS``, named ``<test>-<nn>-<label>.png``. The guides show a chosen few,
under short names that stay the same from run to run. Run after a full browser-test run::

    YIBAO_SCREENSHOTS=/tmp/shots .venv/bin/pytest -p no:cacheprovider tests/browser
    .venv/bin/python docs/guide/screenshots.py /tmp/shots

Each picture is (optionally) cut to the part the guide talks about, scaled down to at most
1000 pixels wide, cut to at most 2000 pixels tall (the top), reduced to a 256-colour palette
and written as an optimised PNG. A listed screenshot that is missing (a test renamed, or a
page it no longer visits) stops the script before anything is written, naming each one.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from PIL import Image

OUT_DIR: Final = Path(__file__).resolve().parent / "img"
MAX_WIDTH: Final = 1000
MAX_HEIGHT: Final = 2000
BUDGET_BYTES: Final = 4 * 1024 * 1024

# the browser tests' names (tests/browser/test_*.py), shortened below
LANDING = "test_landing_page_in_chinese_accessible"
SETTLEMENT = "test_a_person_signs_in_and_reads_a_settlement"
WATERFALL = "test_the_insured_person_sees_the_waterfall"
APPLY = "test_a_person_applies_online_with_a_personal_commitment"
CERTIFICATE = "test_a_certificate_is_printed_then_checked_by_anyone"
CLAIM = "test_a_claim_returned_for_the_diagnosis_certificate_is_completed_and_paid"
REGISTER = "test_a_person_registers_with_the_code_from_the_phone"
WINDOW = "test_the_window_admits_bills_settles_and_prints"
DESK = "test_the_window_settles_then_reverses_and_reconciles"
OFFICE = "test_the_street_office_files_a_resettlement_with_three_hospitals"
REVIEW = "test_the_agency_approves_a_resettlement_filed_by_the_street_office"
CREDIT = "test_a_second_person_approves_an_account_credit"
CLEARING = "test_the_centre_builds_and_confirms_a_month"
DASHBOARD = "test_the_dashboard_draws_its_charts"
ADMIN = "test_the_admin_creates_a_user_and_resets_a_password"


@dataclass(frozen=True)
class Shot:
    """One picture of the guides: its name in img/, the test's screenshot, and optionally
    the rows of the screenshot to keep (top, bottom), in the screenshot's own pixels."""

    name: str
    source: str
    rows: tuple[int, int] | None = None


SHOTS: Final = (
    # README: the start page, registration, the public check
    Shot("landing.png", f"{LANDING}-01-landing.png"),
    Shot("register-code.png", f"{REGISTER}-02-code-sent.png"),
    Shot("verify-genuine.png", f"{CERTIFICATE}-06-checked-by-anyone.png"),
    # insured.md: the insured person
    Shot("insured-home.png", f"{SETTLEMENT}-03-home.png"),
    Shot("filing-form.png", f"{APPLY}-05-form-filled.png"),
    Shot("filing-approved.png", f"{APPLY}-07-approved.png"),
    Shot("filing-approved-en.png", f"{APPLY}-08-approved-en.png"),
    Shot("certificate.png", f"{CERTIFICATE}-03-certificate.png"),
    Shot("institutions.png", f"{APPLY}-11-institutions.png"),
    Shot("settlement-waterfall.png", f"{WATERFALL}-03-waterfall.png", rows=(0, 1840)),
    Shot("claim-form.png", f"{CLAIM}-05-new-claim-filled.png", rows=(0, 2240)),
    Shot("claim-returned.png", f"{CLAIM}-16-claim-returned.png", rows=(0, 1960)),
    # hospital.md: the insurance window
    Shot("window-patient.png", f"{WINDOW}-05-patient.png"),
    Shot("window-presettle.png", f"{WINDOW}-09-pre-settled.png"),
    Shot("window-slip.png", f"{WINDOW}-11-slip.png"),
    Shot("desk-settlement.png", f"{DESK}-08-settlement.png"),
    Shot("desk-reconciliation.png", f"{DESK}-11-reconciliation-result.png"),
    # office.md: street office and unit
    Shot("office-hospital-check.png", f"{OFFICE}-06-hospital-refused.png", rows=(0, 1800)),
    Shot("office-awaiting-stamps.png", f"{OFFICE}-08-draft-awaiting-stamps.png"),
    # agency.md: the centre and the treatment region's agency
    Shot("review-filing.png", f"{REVIEW}-06-filing.png", rows=(0, 2040)),
    Shot("review-claim-decision.png", f"{CLAIM}-22-review-under-review.png", rows=(1985, 4140)),
    Shot("approvals.png", f"{CREDIT}-06-approvals-second.png"),
    Shot("clearing-month.png", f"{CLEARING}-04-built.png"),
    Shot("clearing-statement.png", f"{CLEARING}-06-confirmation-asked.png"),
    Shot("dashboard.png", f"{DASHBOARD}-03-dashboard.png", rows=(0, 1775)),
    # admin.md
    Shot("admin-user-created.png", f"{ADMIN}-05-user-created.png", rows=(0, 1300)),
)


def picture(path: Path, rows: tuple[int, int] | None) -> Image.Image:
    """The screenshot cut, scaled and reduced as the guides show it."""
    with Image.open(path) as opened:
        image = opened.convert("RGB")
    if rows is not None:
        top, bottom = rows
        image = image.crop((0, top, image.width, min(bottom, image.height)))
    if image.width > MAX_WIDTH:
        height = round(image.height * MAX_WIDTH / image.width)
        image = image.resize((MAX_WIDTH, height), Image.Resampling.LANCZOS)
    if image.height > MAX_HEIGHT:
        image = image.crop((0, 0, image.width, MAX_HEIGHT))
    # screenshots are flat colours and text: a palette keeps them sharp and small
    return image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("source", type=Path, help="the folder of a browser-test run's screenshots")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help=f"default: {OUT_DIR}")
    args = parser.parse_args(argv)

    if not args.source.is_dir():
        print(f"screenshots.py: {args.source} is not a folder of screenshots", file=sys.stderr)
        return 1
    missing = [shot.source for shot in SHOTS if not (args.source / shot.source).is_file()]
    if missing:
        print(
            f"screenshots.py: {len(missing)} screenshot(s) missing in {args.source}:",
            file=sys.stderr,
        )
        for name in missing:
            print(f"  {name}", file=sys.stderr)
        print(
            "Run the browser tests with YIBAO_SCREENSHOTS set to that folder, or update the "
            "list in docs/guide/screenshots.py if a test was renamed.",
            file=sys.stderr,
        )
        return 1

    args.out.mkdir(parents=True, exist_ok=True)
    total = 0
    for shot in SHOTS:
        target = args.out / shot.name
        picture(args.source / shot.source, shot.rows).save(target, optimize=True)
        size = target.stat().st_size
        total += size
        with Image.open(target) as written:
            print(f"{shot.name:28} {written.width:4}×{written.height:<4} {size // 1024:4} KB")
    listed = {shot.name for shot in SHOTS}
    for stray in sorted(p.name for p in args.out.glob("*.png") if p.name not in listed):
        print(f"note: img/{stray} is not in the list (left as it is)")
    print(f"{len(SHOTS)} pictures, {total / 1024 / 1024:.2f} MB in {args.out}")
    if total > BUDGET_BYTES:
        print(
            f"warning: more than {BUDGET_BYTES // 1024 // 1024} MB: cut or drop pictures",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
