"""Identity numbers are masked in free text however they are written (issue 13, item 1)."""

from __future__ import annotations

import logging
import sys
from datetime import date
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from yibao.identity import (
    IdentityMaskingFilter,
    answer_scope,
    current_answer,
    identity_numbers_in,
    install_log_masking,
    make_identity_number,
    mask_identity_numbers,
    mask_log_record,
)

NUMBER = "110105195604120317"  # the issue's number
MASKED = "110105********0317"
X_NUMBER = "11010519491231002X"  # the standard's own example


def test_the_issue_access_log_line_is_masked() -> None:
    line = (
        '127.0.0.1:5000 - "GET /api/v1/persons?name=%E8%BA%AB%E4%BB%BD%E8%AF%81'
        f'{NUMBER} HTTP/1.1" 200'
    )
    masked = mask_identity_numbers(line)
    assert NUMBER not in masked
    assert f"%E8%AF%81{MASKED} HTTP/1.1" in masked  # the rest of the line as it was


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (NUMBER, MASKED),
        (f"身份证{NUMBER}号", f"身份证{MASKED}号"),
        (f"ID{NUMBER}abc", f"ID{MASKED}abc"),
        ("11010519491231002x", "110105********002x"),
        ("１１０１０５１９５６０４１２０３１７", "１１０１０５********０３１７"),
        ("110105 19560412 0317", "110105 ******** 0317"),
        ("110105-1956-0412-0317", "110105-****-****-0317"),
        ("110105+19560412+0317", "110105+********+0317"),
        ("110105%2019560412%200317", "110105%20********%200317"),
    ],
)
def test_every_spelling_is_masked(written: str, expected: str) -> None:
    assert mask_identity_numbers(f"see {written}.") == f"see {expected}."


def test_percent_encoded_digits_are_masked() -> None:
    encoded = "".join(f"%{ord(c):02X}" for c in NUMBER)
    masked = mask_identity_numbers(f"?q={encoded}&x=1")
    assert encoded not in masked
    assert masked.count("*") == 8 and masked.endswith("%30%33%31%37&x=1")
    assert identity_numbers_in(f"?q={encoded}") == {NUMBER}


def test_what_is_not_a_number_stays() -> None:
    text = (
        "19 digits 1101051949123100291, phone 138 0013 8000, dates 2026-05-12 2026-05-13, "
        "amount 12,345,678.90, spaced but not valid 110105 19560412 0318, "
        "a hash holding 18 digits ab123456789012345678cd, no birth date 110105195613320317"
    )
    assert mask_identity_numbers(text) == text
    mistyped = "110105195604120318"  # a wrong check character: still a person's number
    assert mask_identity_numbers(mistyped) == "110105********0318"


def test_numbers_the_reader_may_see_are_kept() -> None:
    text = f"{NUMBER} and {X_NUMBER}"
    assert mask_identity_numbers(text, keep={NUMBER}) == f"{NUMBER} and 110105********002X"


numbers = st.builds(
    make_identity_number,
    st.sampled_from(["110105", "460200", "130600", "310101"]),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 12, 31)),
    st.integers(min_value=0, max_value=999),
)
around = st.text(
    alphabet=st.characters(exclude_categories=("Nd", "Cs"), exclude_characters="%+-"), max_size=20
)


def _plain(text: str) -> str:
    """What a reader makes of ``text``: URL-decoded, separators dropped, upper case."""
    return unquote_plus(text).replace(" ", "").replace("-", "").upper()


@given(number=numbers, before=around, after=around)
# a non-breaking space before is %A0 percent-encoded: its 0 must not start a number
@example(number="11010519910109213X", before="\xa0", after="")
def test_no_number_survives_in_any_common_spelling(number: str, before: str, after: str) -> None:
    """Whatever surrounds it (no digits), a number comes out masked, written plainly, with
    a lowercase x, percent-encoded as a query string carries it, spaced or dashed."""
    for text in (
        f"{before}{number}{after}",
        f"{before}{number.lower()}{after}",
        quote(f"{before}{number}{after}"),
        quote_plus(f"{before} {number[:6]} {number[6:14]} {number[14:]} {after}"),
        f"{before}{number[:6]}-{number[6:14]}-{number[14:]}{after}",
    ):
        assert number in _plain(text)  # the test's own spelling holds the number
        masked = mask_identity_numbers(text)
        assert number not in _plain(masked), (text, masked)
        assert number[:6] in _plain(masked) and number[14:] in _plain(masked)


def test_log_records_are_masked_also_in_tracebacks_and_extras(
    caplog: pytest.LogCaptureFixture,
) -> None:
    install_log_masking()
    logger = logging.getLogger("yibao.test")
    with caplog.at_level(logging.DEBUG, logger="yibao.test"):
        try:
            raise ValueError(f"no person {NUMBER}")
        except ValueError:
            logger.exception("lookup failed for %s", quote(f"身份证{NUMBER}"))
    record = caplog.records[-1]
    assert NUMBER not in record.getMessage()
    assert record.exc_text and NUMBER not in record.exc_text and MASKED in record.exc_text
    assert NUMBER not in caplog.text

    extra = logging.LogRecord("x", logging.INFO, __file__, 1, "request", None, None)
    extra.path = f"/api/v1/persons?name={NUMBER}"
    assert IdentityMaskingFilter().filter(extra) is True
    assert extra.path == f"/api/v1/persons?name={MASKED}"


def test_masking_a_record_twice_changes_nothing() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s", (NUMBER,), sys.exc_info())
    once = mask_log_record(record).getMessage()
    assert once == mask_log_record(record).getMessage() == MASKED


def test_an_answer_scope_is_shared_with_the_threads_it_starts() -> None:
    import contextvars
    import threading

    assert current_answer() is None
    with answer_scope("GET /x") as answer:
        context = contextvars.copy_context()

        def read() -> None:
            scope = current_answer()
            assert scope is not None
            scope.shown.add(NUMBER)

        thread = threading.Thread(target=context.run, args=(read,))
        thread.start()
        thread.join()
        assert answer.shown == {NUMBER} and answer.why == "GET /x"
    assert current_answer() is None


# --- the HTTP seal, on a small app of its own ---------------------------------------------


def _sealed_app() -> Any:
    from fastapi import FastAPI, Form
    from fastapi.responses import HTMLResponse, PlainTextResponse, StreamingResponse

    from yibao.api.sealing import IdentitySeal

    app = FastAPI()

    @app.get("/json")
    def as_json(allowed: bool = False) -> dict[str, str]:
        answer = current_answer()
        assert answer is not None and answer.why == "GET /json"
        if allowed:
            answer.shown.add(NUMBER)
        return {"identity_number": NUMBER, "reason": f"身份证{X_NUMBER.lower()}"}

    @app.post("/page", response_class=HTMLResponse)
    def page(identity_number: str = Form("")) -> str:
        return f'<input value="{identity_number}"><p>{X_NUMBER}</p>'

    @app.get("/csv")
    def csv() -> StreamingResponse:
        rows = (f"{i},{NUMBER if i == 500 else 'x'}\n" for i in range(1000))
        return StreamingResponse(rows, media_type="text/csv")

    @app.get("/file")
    def file() -> PlainTextResponse:
        name = quote(f"身份证{NUMBER}.txt")
        headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{name}"}
        return PlainTextResponse(f"left as stored {NUMBER}", headers=headers)

    app.add_middleware(IdentitySeal)
    return app


def test_the_http_seal_masks_every_answer_but_what_the_service_allowed() -> None:
    from fastapi.testclient import TestClient

    client = TestClient(_sealed_app())
    masked = client.get("/json")
    assert masked.json() == {"identity_number": MASKED, "reason": "身份证110105********002x"}
    assert int(masked.headers["content-length"]) == len(masked.content)
    allowed = client.get("/json", params={"allowed": "true"}).json()
    assert allowed["identity_number"] == NUMBER and X_NUMBER.lower() not in allowed["reason"]

    # a page echoes what its caller typed, and nothing else
    page = client.post("/page", data={"identity_number": NUMBER}).text
    assert f'value="{NUMBER}"' in page and "110105********002X" in page

    streamed = client.get("/csv").text
    assert NUMBER not in streamed and f"500,{MASKED}" in streamed
    assert streamed.count("\n") == 1000

    download = client.get("/file")
    assert NUMBER not in download.headers["content-disposition"]
    assert download.text == f"left as stored {NUMBER}"  # a plain-text file is not rewritten


def test_sealed_text_masks_whole_lines_even_when_a_number_comes_in_pieces() -> None:
    import io

    import pytest

    from yibao.cli.sealing import SealedText
    from yibao.identity import AnswerScope

    out = io.StringIO()
    answer = AnswerScope(why="yibao test")
    sealed = SealedText(out, answer)
    sealed.write("holder 110105194912")
    assert out.getvalue() == ""  # held until the line ends
    sealed.write("31002X here\nnext ")
    assert out.getvalue() == "holder 110105********002X here\n"
    answer.shown.add("11010519491231002X")  # the service allowed this one in the answer
    sealed.write("11010519491231002X and 110105194912310037")
    sealed.flush()
    assert out.getvalue().endswith("next 11010519491231002X and 110105********0037")
    with pytest.raises(TypeError):
        sealed.write(b"raw")  # type: ignore[arg-type]
