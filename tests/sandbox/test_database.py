"""Provisioning SQL: one user per sandbox with rights on exactly its databases."""

from __future__ import annotations

import pytest

from dcctl.sandbox import database
from dcctl.sandbox.settings import SandboxSettings

pytestmark = pytest.mark.unit


def test_grants_cover_exactly_the_sandbox_databases() -> None:
    settings = SandboxSettings(name="dcctl-test", port_base=16000)
    statements = database.provisioning_statements(settings, "pw")
    grants = [sql for sql, _ in statements if sql.startswith("GRANT")]
    granted = {sql.split(" ON ")[1].split(".*")[0].strip("`") for sql in grants}
    assert granted == set(settings.databases.values())
    assert all("*.*" not in sql and "%" not in sql.split(" TO ")[0] for sql in grants)


def test_the_user_is_created_and_rekeyed_with_bound_parameters() -> None:
    statements = database.provisioning_statements(SandboxSettings(), "s3cret")
    users = [(sql, params) for sql, params in statements if "USER" in sql]
    assert users
    assert all("s3cret" not in sql for sql, _ in users)  # never interpolated into the SQL
    assert all(params[-1] == "s3cret" for _, params in users)


def test_quote_ident_escapes_backticks() -> None:
    assert database.quote_ident("a`b") == "`a``b`"


def test_urls() -> None:
    settings = SandboxSettings()
    assert database.connection_url(settings, "pw", "cinder") == (
        "mysql+pymysql://dcctl_sandbox:pw@127.0.0.1:3306/dcctl_sandbox_cinder?charset=utf8mb4"
    )
    assert database.transport_url(settings, "pw") == (
        "rabbit://dcctl-sandbox:pw@127.0.0.1:5672/dcctl-sandbox"
    )
