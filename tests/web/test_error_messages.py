"""Every refusal a page can show is said in the reader's language: the table of
:mod:`yibao.web.error_messages` has a sentence for every code the services raise, and no
sentence for a code raised nowhere."""

from __future__ import annotations

import ast
import logging
import re
from pathlib import Path

import pytest

import yibao
from yibao.web import error_messages
from yibao.web.error_messages import SENTENCES, sentence_for
from yibao.web.i18n import load_translations

SOURCES = Path(yibao.__file__).resolve().parent
CODE = re.compile(r"[a-z_]+(\.[a-z_]+)*")
# The FHIR and NHSA adapters answer in their own formats; the command line's own codes
# (a missing or outdated database) never reach a page.
NOT_ON_PAGES = ("fhir.", "nhsa.", "database.", "config.", "yibao.error")
# Codes made from a value where they are raised: the sentence's code, and the source text
# that makes it (the test fails when the source changes, so that the table follows).
MADE_CODES = {
    "hospital.required": 'code=f"{kind}.required"',
    "claim.document_not_found": 'code=f"{owner.kind}.document_not_found"',
    "filing.document_not_found": 'code=f"{owner.kind}.document_not_found"',
}
# Functions that hand a code on to the error they raise, and the argument holding it.
CODE_ARGUMENT = {"_fail": 1, "_role_gate": 2}


def _text(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _codes_in(tree: ast.AST) -> set[str]:
    found: set[str | None] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            found.update(_text(k.value) for k in node.keywords if k.arg == "code")
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            at = CODE_ARGUMENT.get(name or "")
            if at is not None and len(node.args) > at:
                found.add(_text(node.args[at]))
        elif isinstance(node, ast.FunctionDef):  # def parse_kind(value, *, code="...")
            arguments = node.args.args + node.args.kwonlyargs
            defaults = [None] * (len(node.args.args) - len(node.args.defaults))
            for argument, default in zip(
                arguments, defaults + node.args.defaults + node.args.kw_defaults, strict=True
            ):
                if argument.arg == "code":
                    found.add(_text(default))
        elif isinstance(node, ast.ClassDef):  # class NotFound(YibaoError): code = "not_found"
            for statement in node.body:
                target = getattr(statement, "target", None) or next(
                    iter(getattr(statement, "targets", [])), None
                )
                if getattr(target, "id", None) == "code":
                    found.add(_text(getattr(statement, "value", None)))
    return {c for c in found if c and CODE.fullmatch(c)}


def raised_codes() -> dict[str, str]:
    """Every error code written in the sources (outside the adapters), and where."""
    codes: dict[str, str] = {}
    for path in sorted(SOURCES.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        for code in _codes_in(ast.parse(source)):
            if not code.startswith(NOT_ON_PAGES):
                codes.setdefault(code, str(path.relative_to(SOURCES)))
        for code, made in MADE_CODES.items():
            if made in source:
                codes.setdefault(code, str(path.relative_to(SOURCES)))
    return codes


def test_every_code_raised_has_its_sentence() -> None:
    codes = raised_codes()
    assert "filing.hospital_stamps_missing" in codes and "web.csrf" in codes  # the walk works
    missing = {code: where for code, where in codes.items() if code not in SENTENCES}
    assert not missing, f"give these codes a sentence in yibao/web/error_messages.py: {missing}"


def test_every_sentence_is_for_a_code_still_raised() -> None:
    stale = sorted(set(SENTENCES) - set(raised_codes()))
    assert not stale, f"raised nowhere any more: {stale}"


def test_the_sentences_read_in_chinese() -> None:
    chinese = load_translations("zh")
    said = chinese.gettext(SENTENCES["filing.hospital_stamps_missing"])
    assert said.startswith("医院尚未在备案表上盖章") and not chinese.missing
    untranslated = sorted(c for c, m in SENTENCES.items() if chinese.gettext(m) == m)
    assert not untranslated and not chinese.missing


def test_a_code_without_a_sentence_falls_back_and_is_logged_once(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(error_messages, "_unsaid", set())
    with caplog.at_level(logging.WARNING, logger="yibao.web"):
        assert sentence_for("nobody.raises_this") is None
        assert sentence_for("nobody.raises_this") is None
    assert [r.getMessage().count("nobody.raises_this") for r in caplog.records] == [1]
    assert sentence_for(None) is None
    assert sentence_for("filing.same_user") == SENTENCES["filing.same_user"]
