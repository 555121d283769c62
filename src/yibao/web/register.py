"""Pages: (being written)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from yibao.web.page import check_csrf
from yibao.web.routes import PageRoute

router = APIRouter(
    route_class=PageRoute, include_in_schema=False, dependencies=[Depends(check_csrf)]
)
