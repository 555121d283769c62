"""Jinja2 templates of the pages, one environment per language.

Each environment has its language's catalog installed (Jinja's i18n extension, new-style
gettext: ``{{ _("Signed in as %(name)s", name=viewer.name) }}`` escapes the value, and a
literal percent sign in a message is written ``%%``), the formats of
:mod:`yibao.web.i18n` as filters (``money``, ``date``, ``datetime``) and ``label`` to say a
code in words (:mod:`yibao.web.labels`). Undefined names fail loudly (``StrictUndefined``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, cast

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from yibao.engine.phrases import Lang
from yibao.engine.render import localise_explanation
from yibao.web import labels
from yibao.web.i18n import (
    HTML_LANG,
    PageTranslations,
    format_date,
    format_datetime,
    format_money,
    load_all,
)
from yibao.web.nav import menu_for

TEMPLATES_DIR: Final = Path(__file__).resolve().parent / "templates"
STATIC_DIR: Final = Path(__file__).resolve().parent / "static"


def _environment(lang: Lang, translations: PageTranslations) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(("html",)),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    # added by the i18n extension; the catalog's own methods, so misses are noted
    cast(Any, env).install_gettext_callables(
        gettext=translations.gettext, ngettext=translations.ngettext, newstyle=True
    )

    def say(table: Mapping[str, str], code: str | None) -> str:
        return translations.gettext(labels.label(table, code)) if code else ""

    def on_day(value: date | None) -> str:
        return format_date(value, lang)

    def at_time(value: datetime | None) -> str:
        return format_datetime(value, lang)

    env.filters.update(money=format_money, date=on_day, datetime=at_time)
    env.globals.update(
        lang=lang,
        html_lang=HTML_LANG[lang],
        label=say,
        labels=labels,
        menu_for=menu_for,
        category_name=lambda category: labels.category_name(category, lang),
        case_title=lambda region, case: labels.case_title(region, case, lang),
        # an engine's reason stored in English (a line outside the fund), said in ``lang``
        reason=lambda text: localise_explanation([text], lang)[0] if text else "",
    )
    return env


class Renderer:
    """The templates in each language, and the catalogs behind them."""

    def __init__(self) -> None:
        self.translations = load_all()
        self.environments = {
            lang: _environment(lang, catalog) for lang, catalog in self.translations.items()
        }

    def render(self, lang: Lang, name: str, context: Mapping[str, Any]) -> str:
        return self.environments[lang].get_template(name).render(context)

    def gettext(self, lang: Lang, message: str) -> str:
        return self.translations[lang].gettext(message)
