from __future__ import annotations

import pytest

from dcctl.errors import ServiceUnavailable
from dcctl.progress import RecordingReporter
from dcctl.sandbox import deps

pytestmark = pytest.mark.unit


def test_nothing_happens_when_both_answer() -> None:
    reporter = RecordingReporter()
    deps.ensure(with_deps=False, reporter=reporter, reachable=lambda host, port: True)
    assert reporter.steps == []


def test_missing_services_are_named_with_what_to_run() -> None:
    with pytest.raises(ServiceUnavailable) as caught:
        deps.ensure(
            with_deps=False,
            reporter=RecordingReporter(),
            reachable=lambda host, port: port == 3306,
        )
    assert "RabbitMQ (127.0.0.1:5672)" in caught.value.message
    assert caught.value.hint is not None
    assert "apt-get install -y rabbitmq-server" in caught.value.hint
    assert "rabbitmq-server -detached" in caught.value.hint
    assert "--with-deps" in caught.value.hint
