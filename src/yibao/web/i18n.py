"""Languages of the pages: Chinese (zh_CN) first, English on request.

Message ids are the English source strings; ``translations/<locale>/LC_MESSAGES/*.po`` hold
each language's text, one file per area of the pages (``messages.po`` for the common words,
``desk.po`` for the window's desk pages, ``claims.po``, ...), merged into one catalog per
language (a message id may stand in one file only). The ``.po`` files are read at start-up
(Babel's ``read_po``) and turned into gettext catalogs in memory, so a fresh checkout or a
wheel needs no compile step and no ``.mo`` file can drift from its source. Reading them
costs milliseconds once per process.

A catalog remembers every message it was asked for and did not hold (``missing``): the
tests render the pages and fail on any, and the server logs each once.

Money reads ``1,234.50 元`` in both languages (the agencies' letters and receipts);
dates read ``2026年5月10日`` in Chinese and ``2026-05-10`` in English; times are China time.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Final

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from yibao.clock import CHINA
from yibao.engine.phrases import DEFAULT_LANGUAGE, LANGUAGES, Lang, choose_language
from yibao.money import parse_decimal, round2

TRANSLATIONS_DIR: Final = Path(__file__).resolve().parent / "translations"
DOMAIN: Final = "messages"
LOCALES: Final[dict[Lang, str]] = {"zh": "zh_CN", "en": "en"}
HTML_LANG: Final[dict[Lang, str]] = {"zh": "zh-CN", "en": "en"}

_log = logging.getLogger("yibao.web")


def N_(message: str) -> str:
    """Mark a message for the catalog without translating it now (labels in tables)."""
    return message


class PageTranslations(Translations):
    """A gettext catalog that remembers the messages it was asked for and lacks."""

    def __init__(self, fp: BytesIO, *, known: frozenset[str], lang: Lang) -> None:
        super().__init__(fp, domain=DOMAIN)
        self.known = known
        self.lang = lang
        self.missing: set[str] = set()

    def _note(self, message: str) -> None:
        if message not in self.known and message not in self.missing:
            self.missing.add(message)
            _log.warning("message not in the %s catalog: %r", LOCALES[self.lang], message)

    def gettext(self, message: str) -> str:
        self._note(message)
        return super().gettext(message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        self._note(msgid1)
        return super().ngettext(msgid1, msgid2, n)


def catalog_paths(lang: Lang) -> list[Path]:
    """The language's ``.po`` files, one per area of the pages, in name order."""
    return sorted((TRANSLATIONS_DIR / LOCALES[lang] / "LC_MESSAGES").glob("*.po"))


def read_catalog(lang: Lang) -> Catalog:
    """The language's ``.po`` files merged into one catalog; a message id found in two files
    is an error (one owner for every message)."""
    merged = Catalog(locale=LOCALES[lang], domain=DOMAIN)
    owner: dict[str, str] = {}
    for path in catalog_paths(lang):
        with path.open("rb") as po:
            part = read_po(po, locale=LOCALES[lang], domain=DOMAIN)
        for message in part:
            if not message.id:
                continue
            key = message.id if isinstance(message.id, str) else message.id[0]
            if key in owner:
                raise ValueError(f"message {key!r} is in both {owner[key]} and {path.name}")
            owner[key] = path.name
            merged[message.id] = message
    return merged


def load_translations(lang: Lang) -> PageTranslations:
    """The language's catalog, read from its ``.po`` files. A fuzzy entry, or an empty one
    in Chinese, counts as missing; an empty English entry reads as its (English) id."""
    catalog = read_catalog(lang)
    # English ids are English text: an empty English entry means "as the id"
    known = frozenset(
        message.id
        for message in catalog
        if isinstance(message.id, str)
        and message.id
        and not message.fuzzy
        and (message.string or lang == "en")
    )
    mo = BytesIO()
    write_mo(mo, catalog)
    mo.seek(0)
    return PageTranslations(mo, known=known, lang=lang)


def load_all() -> dict[Lang, PageTranslations]:
    return {lang: load_translations(lang) for lang in LANGUAGES}


def page_language(query: str | None, cookie: str | None, accept_language: str | None) -> Lang:
    """``?lang=`` first, then the language cookie (set by the switch), then the browser's
    ``Accept-Language``; Chinese when nothing says otherwise."""
    if query:
        return choose_language(query)
    if cookie in LANGUAGES:
        return "en" if cookie == "en" else DEFAULT_LANGUAGE
    return choose_language(None, accept_language)


# --- formats ------------------------------------------------------------------------------


def format_money(value: Decimal | str | int | None) -> str:
    """``1,234.50 元``: yuan to the fen with thousands separators (half up, as the contract
    rounds; a stored amount is already whole fen). An ``int`` is whole fen."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        amount = Decimal(value) / 100
    else:
        amount = parse_decimal(value)
    return f"{round2(amount):,.2f} 元"


def format_date(value: date | None, lang: Lang) -> str:
    """``2026年5月10日`` in Chinese, ISO ``2026-05-10`` in English."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = china_time(value).date()
    if lang == "zh":
        return f"{value.year}年{value.month}月{value.day}日"
    return value.isoformat()


def china_time(at: datetime) -> datetime:
    """The instant in China time (a naive timestamp is UTC, as stored)."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return aware.astimezone(CHINA)


def format_datetime(value: datetime | None, lang: Lang) -> str:
    """``2026年5月10日 14:30`` / ``2026-05-10 14:30 (UTC+8)``: always China time."""
    if value is None:
        return ""
    local = china_time(value)
    if lang == "zh":
        return f"{format_date(local.date(), lang)} {local:%H:%M}"
    return f"{local:%Y-%m-%d %H:%M} (UTC+8)"
