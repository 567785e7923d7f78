"""The TLS check against real handshakes with a throw-away provincial CA."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from dcctl.doctor import Status, _check_certificate, fetch_certificate
from tests.support.tls import make_authority, tls_endpoint

pytestmark = pytest.mark.unit


def test_chain_verified_against_configured_ca(tmp_path: Path) -> None:
    ca = make_authority()
    with tls_endpoint(ca.issue("localhost", days=200), tmp_path) as port:
        info = fetch_certificate("localhost", port, str(ca.write(tmp_path / "ca.pem")))
        check = _check_certificate(f"https://localhost:{port}", str(tmp_path / "ca.pem"))
    assert "commonName=localhost" in info.subject
    assert ca.name in info.issuer
    assert 198 <= info.days_left() <= 200
    assert check.status == Status.PASS
    assert "days" in check.detail


def test_unknown_ca_fails_with_hint(tmp_path: Path) -> None:
    ca, other = make_authority(), make_authority("Some Other CA")
    with tls_endpoint(ca.issue("localhost"), tmp_path) as port:
        with pytest.raises(ssl.SSLCertVerificationError):
            fetch_certificate("localhost", port, str(other.write(tmp_path / "other.pem")))
        check = _check_certificate(f"https://localhost:{port}", str(tmp_path / "other.pem"))
    assert check.status == Status.FAIL
    assert "not trusted" in check.detail
    assert check.hint and "cacert" in check.hint


def test_certificate_expiring_soon_warns(tmp_path: Path) -> None:
    ca = make_authority()
    with tls_endpoint(ca.issue("localhost", days=10), tmp_path) as port:
        check = _check_certificate(f"https://localhost:{port}", str(ca.write(tmp_path / "ca.pem")))
    assert check.status == Status.WARN
    assert "(9 days)" in check.detail or "(10 days)" in check.detail


def test_expired_certificate_fails(tmp_path: Path) -> None:
    ca = make_authority()
    with tls_endpoint(ca.issue("localhost", days=-2, start_days_ago=30), tmp_path) as port:
        check = _check_certificate(f"https://localhost:{port}", str(ca.write(tmp_path / "ca.pem")))
    assert check.status == Status.FAIL
    assert "expired" in check.detail


def test_wrong_host_name_fails(tmp_path: Path) -> None:
    ca = make_authority()
    with tls_endpoint(ca.issue("api.cloud.quangngai.gov.vn"), tmp_path) as port:
        check = _check_certificate(f"https://localhost:{port}", str(ca.write(tmp_path / "ca.pem")))
    assert check.status == Status.FAIL
    assert "mismatch" in check.detail.lower() or "match" in check.detail.lower()
