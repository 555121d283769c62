"""Identity numbers never reach a log in full, whichever logger writes them."""

from __future__ import annotations

import logging

import pytest

from yibao.identity import install_log_masking, mask_identity_number, mask_identity_numbers_in

NUMBER = "11010519491231002X"  # the standard's own example


def test_numbers_are_masked_like_listings() -> None:
    text = f"lookup {NUMBER} and 11010519491231002x, not 1101051949123100291 (19 digits)"
    masked = mask_identity_numbers_in(text)
    assert mask_identity_number(NUMBER) in masked
    assert NUMBER not in masked and "11010519491231002x" not in masked
    assert "1101051949123100291" in masked  # longer runs are not identity numbers


@pytest.mark.parametrize("name", ["uvicorn.access", "yibao.api", "sqlalchemy.engine", "anything"])
def test_log_records_are_masked(name: str, caplog: pytest.LogCaptureFixture) -> None:
    install_log_masking()
    logger = logging.getLogger(name)
    with caplog.at_level(logging.INFO, logger=name):
        logger.info('%s - "GET /api/v1/persons?identity=%s HTTP/1.1" 200', "127.0.0.1", NUMBER)
    assert caplog.records, "nothing was logged"
    message = caplog.records[-1].getMessage()
    assert NUMBER not in message and "110105********002X" in message


def test_the_shape_of_record_args_is_kept(caplog: pytest.LogCaptureFixture) -> None:
    """uvicorn's access formatter unpacks ``record.args`` (client, method, path, version,
    status): masking must not collapse them, or every such request fails to log."""
    install_log_masking()
    logger = logging.getLogger("uvicorn.access")
    path = f"/api/v1/persons?identity={NUMBER}"
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", path, "1.1", 200)
    record = caplog.records[-1]
    assert isinstance(record.args, tuple) and len(record.args) == 5
    client, method, full_path, version, status = record.args
    assert (client, method, version, status) == ("127.0.0.1:5000", "GET", "1.1", 200)
    assert NUMBER not in full_path and "110105********002X" in full_path
