"""Every API router, mounted under ``/api/v1`` by :func:`yibao.api.app.create_app`.

Append your concept's router here with one line.
"""

from fastapi import APIRouter

from yibao.api import system_routes
from yibao.filings import routes as filing_routes

ROUTERS: list[APIRouter] = [
    system_routes.router,
    filing_routes.router,
]
