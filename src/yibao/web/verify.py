"""The public check of a printed document (文书验证): ``/verify`` and ``/verify/<code>``.

No sign-in: a hospital shown a filing certificate, a bank shown a decision letter, anyone
with the paper types its code (or scans its QR code) and learns whether Yibao issued it and
whether it is still valid today (:func:`yibao.verification.service.check`), with the
person's name and identity number masked. An unknown code answers "not genuine" with 404.
Codes are 20 characters of base32 (100 bits), so trying codes finds nothing.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from yibao.auth.deps import SessionDep
from yibao.clock import business_date
from yibao.verification import service as verification
from yibao.web.i18n import N_
from yibao.web.page import PageDep, check_csrf, now
from yibao.web.routes import PageRoute

NO_CODE: Final = N_("Type the verification code printed on the document.")
BAD_CODE: Final = N_(
    "A verification code has 20 letters and digits (A–Z, 2–7), for example "
    "ABCD-EFGH-JKLM-NPQR-STUV."
)

router = APIRouter(
    route_class=PageRoute, include_in_schema=False, dependencies=[Depends(check_csrf)]
)


@router.get("/verify")
def verify_form(
    page: PageDep, code: Annotated[str | None, Query(max_length=200)] = None
) -> Response:
    """The form; with ``?code=`` (the form's own GET), the check page of that code."""
    if code is None:
        return page.render("verify.html", code="", error=None)
    normal = verification.normalise_code(code)
    if normal is None:
        return page.render(
            "verify.html",
            status_code=422,
            code=code,
            error=NO_CODE if not code.strip() else BAD_CODE,
        )
    return page.redirect(f"/verify/{normal}")


@router.get("/verify/{code}")
def verify_code(
    page: PageDep, session: SessionDep, code: Annotated[str, Path(max_length=200)]
) -> Response:
    result = verification.check(session, code=code, today=business_date(now()))
    return page.render(
        "verify_result.html",
        status_code=200 if result.genuine else 404,
        result=result,
        code=verification.grouped(verification.normalise_code(code) or "") or code,
    )
