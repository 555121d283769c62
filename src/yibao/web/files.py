"""Files the pages hand out: an uploaded document of a claim or a filing, and downloads
(example files, exports).

An uploaded document is not a page: it gets no page CSP (a PDF viewer must run in it), but
it is never sniffed nor stored, and it may be framed by this site's own pages only (the
review pages show it inline in an ``<iframe>``): ``X-Frame-Options: SAMEORIGIN`` and
``frame-ancestors 'self'`` instead of the pages' ``DENY``/``'none'``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final, Literal

from fastapi.responses import FileResponse, Response

from yibao.documents.kinds import KIND_NAMES, DocumentKind
from yibao.documents.models import Document
from yibao.web.page import Page

DOCUMENT_HEADERS: Final = {
    "Content-Security-Policy": "frame-ancestors 'self'",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
}


def document_response(
    page: Page,
    doc: Document,
    path: Path,
    *,
    disposition: Literal["inline", "attachment"] = "inline",
) -> Response:
    """A stored document (read by its concept's service, which checked who may see it),
    typed by what was checked at upload."""
    response = page.finish(
        FileResponse(
            path,
            media_type=doc.content_type,
            filename=doc.filename,
            content_disposition_type=disposition,
        )
    )
    response.headers.update(DOCUMENT_HEADERS)
    return response


def download(page: Page, content: bytes, media_type: str, filename: str) -> Response:
    """A file to save (an example file, an export), named ``filename``."""
    response = Response(content, media_type=media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return page.finish(response)


def kind_name(kind: str, lang: str) -> str:
    """A document kind's name in the page's language, the domain's own two names
    (身份证复印件 / copy of the identity card); an unknown kind as it is written."""
    try:
        names = KIND_NAMES[DocumentKind(kind)]
    except ValueError:
        return kind
    return names.chinese if lang == "zh" else names.english
