"""HTML to PDF (WeasyPrint) for the printed documents, with a named Chinese font.

The PDFs are rendered from the same templates as their pages. Chinese text needs a font
that has it: the printouts name the Noto CJK families of the Debian package
``fonts-noto-cjk`` (``make system-deps`` installs it), never whatever the machine happens
to have, and :func:`require_fonts` fails with an error naming the package when its files are
missing. WeasyPrint itself needs Pango (``libpango-1.0-0``, ``libpangoft2-1.0-0``).

Nothing is fetched while rendering: the stylesheet is read from the package's static files,
the QR code is an inline ``data:`` image, and any other URL is refused.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from yibao.web.rendering import STATIC_DIR

CJK_FONT_PACKAGE: Final = "fonts-noto-cjk"
PANGO_PACKAGES: Final = ("libpango-1.0-0", "libpangoft2-1.0-0")
FONT_DIR: Final = Path("/usr/share/fonts/opentype/noto")
FONT_FILES: Final = (
    FONT_DIR / "NotoSansCJK-Regular.ttc",
    FONT_DIR / "NotoSansCJK-Bold.ttc",
    FONT_DIR / "NotoSerifCJK-Regular.ttc",
    FONT_DIR / "NotoSerifCJK-Bold.ttc",
)
FONT_FAMILIES: Final = ("Noto Sans CJK SC", "Noto Serif CJK SC")
PRINT_CSS: Final = STATIC_DIR / "css" / "print.css"
PDF_MEDIA_TYPE: Final = "application/pdf"


class PrintingUnavailable(RuntimeError):
    """The machine lacks what the PDFs need (a font package or Pango): named in the message."""


def require_fonts(files: tuple[Path, ...] = FONT_FILES) -> tuple[Path, ...]:
    """The font files of the printouts, or an error naming the Debian package to install."""
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        raise PrintingUnavailable(
            f"the Chinese font of the printed documents is missing ({', '.join(missing)}): "
            f"install the Debian package {CJK_FONT_PACKAGE} "
            f"(`make system-deps`, or `apt-get install {CJK_FONT_PACKAGE}`)"
        )
    return files


@lru_cache(maxsize=1)
def _weasyprint() -> Any:
    try:
        import weasyprint
    except OSError as error:  # Pango's shared libraries are not there
        raise PrintingUnavailable(
            f"WeasyPrint cannot load Pango ({error}): install the Debian packages "
            f"{' '.join(PANGO_PACKAGES)}"
        ) from error
    return weasyprint


def _fetcher() -> Any:
    """Only inline ``data:`` images are read while rendering (the QR code); any other URL
    is refused, so a printout never reaches the network or the file system."""
    return _weasyprint().urls.URLFetcher(allowed_protocols={"data"})


@lru_cache(maxsize=1)
def _stylesheet() -> Any:
    weasyprint = _weasyprint()
    return weasyprint.CSS(string=PRINT_CSS.read_text(encoding="utf-8"))


def html_to_pdf(html: str) -> bytes:
    """The PDF of a rendered printout (A4, the print stylesheet, the Noto CJK fonts)."""
    require_fonts()
    weasyprint = _weasyprint()
    document = weasyprint.HTML(string=html, url_fetcher=_fetcher(), base_url="/")
    pdf: bytes = document.write_pdf(stylesheets=[_stylesheet()])
    return pdf
