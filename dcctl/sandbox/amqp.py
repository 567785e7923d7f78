"""Just enough AMQP 0-9-1 to ask RabbitMQ two questions without rabbitmqctl or a client library.

1. Can the sandbox's user log in to its vhost? (Then the vhost, user, password and permissions
   are all in place and ``up`` skips the ~2 s of rabbitmqctl calls on a restart.)
2. How many consumers does an RPC queue have? (A worker is serving RPC exactly when its topic
   queue has a consumer; that is the readiness signal of nova and cinder workers, seconds
   before their first database heartbeat.)

Frames are built and parsed by pure functions (unit-tested); :class:`Probe` does the socket I/O.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from types import TracebackType

PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"
FRAME_METHOD = 1
FRAME_HEARTBEAT = 8
FRAME_END = 0xCE

CONNECTION_START = (10, 10)
CONNECTION_START_OK = (10, 11)
CONNECTION_TUNE = (10, 30)
CONNECTION_TUNE_OK = (10, 31)
CONNECTION_OPEN = (10, 40)
CONNECTION_OPEN_OK = (10, 41)
CONNECTION_CLOSE = (10, 50)
CONNECTION_CLOSE_OK = (10, 51)
CHANNEL_OPEN = (20, 10)
CHANNEL_OPEN_OK = (20, 11)
CHANNEL_CLOSE = (20, 40)
QUEUE_DECLARE = (50, 10)
QUEUE_DECLARE_OK = (50, 11)


class AMQPError(Exception):
    """The broker refused (wrong credentials, no such vhost) or spoke unexpectedly."""


def shortstr(value: str) -> bytes:
    data = value.encode("utf-8")
    if len(data) > 255:
        raise ValueError("shortstr longer than 255 bytes")
    return bytes([len(data)]) + data


def longstr(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def method_frame(channel: int, method: tuple[int, int], arguments: bytes = b"") -> bytes:
    payload = struct.pack(">HH", *method) + arguments
    return struct.pack(">BHI", FRAME_METHOD, channel, len(payload)) + payload + bytes([FRAME_END])


def start_ok(user: str, password: str) -> bytes:
    response = b"\0" + user.encode() + b"\0" + password.encode()
    return method_frame(
        0,
        CONNECTION_START_OK,
        struct.pack(">I", 0) + shortstr("PLAIN") + longstr(response) + shortstr("en_US"),
    )


def tune_ok(channel_max: int, frame_max: int) -> bytes:
    return method_frame(0, CONNECTION_TUNE_OK, struct.pack(">HIH", channel_max, frame_max, 0))


def connection_open(vhost: str) -> bytes:
    return method_frame(0, CONNECTION_OPEN, shortstr(vhost) + shortstr("") + b"\0")


def channel_open(channel: int) -> bytes:
    return method_frame(channel, CHANNEL_OPEN, shortstr(""))


def passive_declare(channel: int, queue: str) -> bytes:
    # reserved short, queue name, bits (passive=1), empty arguments table
    return method_frame(
        channel, QUEUE_DECLARE, struct.pack(">H", 0) + shortstr(queue) + b"\x01" + b"\0\0\0\0"
    )


def connection_close() -> bytes:
    return method_frame(0, CONNECTION_CLOSE, struct.pack(">H", 200) + shortstr("bye") + b"\0" * 4)


@dataclass(frozen=True)
class Method:
    channel: int
    method: tuple[int, int]
    arguments: bytes

    def close_reason(self) -> str:
        """Reply code and text of a connection.close / channel.close."""
        code = struct.unpack(">H", self.arguments[:2])[0]
        length = self.arguments[2]
        return f"{code} {self.arguments[3 : 3 + length].decode('utf-8', 'replace')}"


def parse_declare_ok(arguments: bytes) -> tuple[str, int, int]:
    """(queue, message count, consumer count) of a queue.declare-ok."""
    length = arguments[0]
    queue = arguments[1 : 1 + length].decode("utf-8", "replace")
    messages, consumers = struct.unpack(">II", arguments[1 + length : 9 + length])
    return queue, messages, consumers


class Probe:
    """A short-lived AMQP connection: ``with Probe(...) as probe: probe.consumers("conductor")``."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        user: str,
        password: str,
        vhost: str,
        timeout: float = 3.0,
    ) -> None:
        self._address = (host, port)
        self._user, self._password, self._vhost = user, password, vhost
        self._timeout = timeout
        self._sock: socket.socket | None = None
        self._buffer = b""
        self._next_channel = 1

    def __enter__(self) -> Probe:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def open(self) -> None:
        self._sock = socket.create_connection(self._address, timeout=self._timeout)
        self._send(PROTOCOL_HEADER)
        self._expect(CONNECTION_START)
        self._send(start_ok(self._user, self._password))
        tune = self._expect(CONNECTION_TUNE)
        channel_max, frame_max, _ = struct.unpack(">HIH", tune.arguments[:8])
        self._send(tune_ok(channel_max or 2047, frame_max or 131072))
        self._send(connection_open(self._vhost))
        self._expect(CONNECTION_OPEN_OK)

    def consumers(self, queue: str) -> int:
        """Consumer count of ``queue``; 0 if the queue does not exist."""
        channel = self._next_channel
        self._next_channel += 1
        self._send(channel_open(channel))
        self._expect(CHANNEL_OPEN_OK)
        self._send(passive_declare(channel, queue))
        reply = self._read_method()
        if reply.method == CHANNEL_CLOSE:  # 404: no such queue yet
            return 0
        if reply.method != QUEUE_DECLARE_OK:
            raise AMQPError(f"unexpected reply {reply.method} to queue.declare")
        return parse_declare_ok(reply.arguments)[2]

    def close(self) -> None:
        if self._sock is None:
            return
        try:
            self._send(connection_close())
        except OSError:
            pass
        finally:
            self._sock.close()
            self._sock = None

    # -- framing ---------------------------------------------------------------------------------
    def _send(self, data: bytes) -> None:
        if self._sock is None:
            raise AMQPError("not connected")
        self._sock.sendall(data)

    def _read(self, count: int) -> bytes:
        if self._sock is None:
            raise AMQPError("not connected")
        while len(self._buffer) < count:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise AMQPError("connection closed by the broker (refused credentials or vhost?)")
            self._buffer += chunk
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def _read_method(self) -> Method:
        while True:
            kind, channel, size = struct.unpack(">BHI", self._read(7))
            payload = self._read(size)
            if self._read(1)[0] != FRAME_END:
                raise AMQPError("bad frame end")
            if kind == FRAME_HEARTBEAT:
                continue
            if kind != FRAME_METHOD:
                continue
            method = struct.unpack(">HH", payload[:4])
            return Method(channel, (method[0], method[1]), payload[4:])

    def _expect(self, method: tuple[int, int]) -> Method:
        reply = self._read_method()
        if reply.method == CONNECTION_CLOSE:
            raise AMQPError(f"broker closed the connection: {reply.close_reason()}")
        if reply.method != method:
            raise AMQPError(f"expected {method}, got {reply.method}")
        return reply


def can_login(host: str, port: int, *, user: str, password: str, vhost: str) -> bool:
    try:
        with Probe(host, port, user=user, password=password, vhost=vhost):
            return True
    except (OSError, AMQPError):
        return False
