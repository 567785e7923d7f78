"""The AMQP frames the readiness probe sends and parses (the socket side is integration)."""

from __future__ import annotations

import struct

import pytest

from dcctl.sandbox import amqp

pytestmark = pytest.mark.unit


def test_method_frame_layout() -> None:
    frame = amqp.method_frame(3, amqp.CHANNEL_OPEN, b"\x00")
    kind, channel, size = struct.unpack(">BHI", frame[:7])
    assert (kind, channel, size) == (amqp.FRAME_METHOD, 3, 5)
    assert struct.unpack(">HH", frame[7:11]) == amqp.CHANNEL_OPEN
    assert frame[-1] == amqp.FRAME_END


def test_start_ok_carries_plain_credentials() -> None:
    frame = amqp.start_ok("user", "secret")
    payload = frame[7:-1]
    assert payload[:4] == struct.pack(">HH", *amqp.CONNECTION_START_OK)
    assert b"\x05PLAIN" in payload
    assert b"\x00user\x00secret" in payload


def test_passive_declare_sets_only_the_passive_bit() -> None:
    frame = amqp.passive_declare(1, "conductor")
    arguments = frame[11:-1]
    assert arguments[:2] == b"\x00\x00"
    assert arguments[2:12] == b"\x09conductor"
    assert arguments[12] == 0x01
    assert arguments[13:] == b"\x00\x00\x00\x00"


def test_declare_ok_gives_the_consumer_count() -> None:
    arguments = amqp.shortstr("cinder-volume") + struct.pack(">II", 7, 2)
    assert amqp.parse_declare_ok(arguments) == ("cinder-volume", 7, 2)


def test_close_reason() -> None:
    method = amqp.Method(0, amqp.CONNECTION_CLOSE, struct.pack(">H", 403) + amqp.shortstr("no"))
    assert method.close_reason() == "403 no"


def test_shortstr_refuses_long_strings() -> None:
    with pytest.raises(ValueError):
        amqp.shortstr("x" * 256)


def test_can_login_is_false_when_nothing_listens() -> None:
    assert not amqp.can_login("127.0.0.1", 1, user="u", password="p", vhost="v")
