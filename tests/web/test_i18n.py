"""The catalogs and the formats: every string of the pages is translated, money reads to the
fen, dates the Chinese way in Chinese and ISO in English, times in China time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

import yibao.web
from yibao.engine.phrases import Lang
from yibao.web.i18n import (
    catalog_paths,
    format_date,
    format_datetime,
    format_money,
    load_translations,
    page_language,
    read_catalog,
)

WEB = Path(yibao.web.__file__).resolve().parent
# The same extraction as src/yibao/web/babel.cfg (docs/pages.md): Python with N_ marks too.
METHODS = [("**/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def used_messages() -> dict[str, str]:
    """Every message id the pages' templates and code mark, and where."""
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(WEB),
        method_map=METHODS,
        options_map=OPTIONS,
        keywords={**DEFAULT_KEYWORDS, "N_": None},
    ):
        ids = message if isinstance(message, tuple) else (message,)
        for msgid in ids:
            if msgid:
                found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def catalog(locale: str) -> Catalog:
    return read_catalog("zh" if locale == "zh_CN" else "en")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_area_has_its_file_in_both_languages(lang: Lang) -> None:
    names = {path.name for path in catalog_paths(lang)}
    other = {path.name for path in catalog_paths("en" if lang == "zh" else "zh")}
    assert "messages.po" in names and names == other


def test_the_extraction_finds_the_pages_strings() -> None:
    used = used_messages()
    assert "Sign in" in used and "Pool fund pays" in used  # a template's and a label's
    assert len(used) > 100


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_every_string_is_in_the_catalog_and_nothing_else(locale: str) -> None:
    used = used_messages()
    messages = {m.id: m for m in catalog(locale) if m.id}
    missing = {msgid: where for msgid, where in used.items() if msgid not in messages}
    assert not missing, f"not in the {locale} catalog: {missing}"
    stale = sorted(set(messages) - set(used))
    assert not stale, f"in the {locale} catalog but used nowhere: {stale}"
    fuzzy = sorted(str(m.id) for m in messages.values() if m.fuzzy)
    assert not fuzzy, f"fuzzy in {locale}: {fuzzy}"


def test_every_string_has_a_chinese_translation() -> None:
    untranslated = sorted(str(m.id) for m in catalog("zh_CN") if m.id and not m.string)
    assert not untranslated, f"no Chinese for: {untranslated}"
    for message in catalog("zh_CN"):
        if message.id:
            assert message.string != message.id, f"not translated: {message.id!r}"


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_placeholders_agree(locale: str) -> None:
    problems = [
        (str(message.id), [str(e) for e in errors])
        for message, errors in catalog(locale).check()
        if errors
    ]
    assert not problems


def test_a_message_not_in_the_catalog_is_noted() -> None:
    chinese = load_translations("zh")
    assert chinese.gettext("Sign in") == "登录" and not chinese.missing
    assert chinese.gettext("Not a message of ours") == "Not a message of ours"
    assert chinese.missing == {"Not a message of ours"}
    english = load_translations("en")
    assert english.gettext("Sign in") == "Sign in" and not english.missing


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("1234.5"), "1,234.50 元"),
        (Decimal("0"), "0.00 元"),
        ("1234567.89", "1,234,567.89 元"),
        (Decimal("-2360.00"), "-2,360.00 元"),
        (123_456, "1,234.56 元"),  # whole fen
        (Decimal("0.005"), "0.01 元"),  # half up, as the contract rounds
        (Decimal("2.675"), "2.68 元"),
    ],
)
def test_money(value: Decimal | str | int, shown: str) -> None:
    assert format_money(value) == shown


def test_dates_and_times() -> None:
    day = date(2026, 5, 10)
    assert format_date(day, "zh") == "2026年5月10日"
    assert format_date(day, "en") == "2026-05-10"
    late = datetime(2026, 5, 10, 16, 30, tzinfo=UTC)  # 00:30 on 11 May in China
    assert format_datetime(late, "zh") == "2026年5月11日 00:30"
    assert format_datetime(late, "en") == "2026-05-11 00:30 (UTC+8)"
    naive = datetime(2026, 5, 10, 16, 30)  # as SQLite hands it back: UTC
    assert format_datetime(naive, "zh") == "2026年5月11日 00:30"
    assert format_date(late, "zh") == "2026年5月11日"


def test_which_language() -> None:
    assert page_language(None, None, None) == "zh"
    assert page_language("en", "zh", "zh-CN") == "en"  # ?lang= first
    assert page_language(None, "en", "zh-CN") == "en"  # then the cookie
    assert page_language(None, None, "en-US,en;q=0.9") == "en"  # then the browser
    assert page_language(None, "xx", "de") == "zh"
    assert page_language("fr", None, "en") == "zh"
