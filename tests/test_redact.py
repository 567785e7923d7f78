from __future__ import annotations

import logging

import pytest

from dcctl.redact import RedactingFilter, redact_text, register_secret

pytestmark = pytest.mark.unit


def test_json_and_query_fields_are_masked() -> None:
    text = (
        'REQ: curl -X POST /v3/users -d \'{"user": {"name": "a", "password": "Hunter2\\"x"}}\' '
        "password=abc123&x=1 X-Auth-Token: gAAAAAB {'secret': 'shh'}"
    )
    cleaned = redact_text(text)
    assert "Hunter2" not in cleaned and "abc123" not in cleaned
    assert "gAAAAAB" not in cleaned and "shh" not in cleaned
    assert '"name": "a"' in cleaned


def test_registered_secret_is_masked_anywhere(caplog: pytest.LogCaptureFixture) -> None:
    secret = register_secret("Zq9-unique-secret-xyz")
    logger = logging.getLogger("dcctl.test.redact")
    caplog.handler.addFilter(RedactingFilter())
    with caplog.at_level(logging.DEBUG):
        logger.debug("body=%s", f"<<{secret}>>")
    assert secret not in caplog.text
    assert "<<***>>" in caplog.text
