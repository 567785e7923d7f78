"""A fault-injecting, request-recording HTTP reverse proxy in front of OpenStack APIs.

One :class:`FaultProxy` fronts several upstream services (Keystone, Nova, Glance, …), each on its
own ephemeral port on 127.0.0.1. Every upstream base URL found in a response body (textual content
types only), in ``Location``/``Content-Location``/``Link`` headers, and in a Keystone catalog is
rewritten to the matching proxy URL, so a client that starts at the proxy's identity URL stays
behind the proxy for every later call. Request bodies and headers that carry proxy URLs are
rewritten the other way.

Every exchange is recorded (:class:`Record`; bodies only on request, since they carry passwords),
and :class:`Fault` rules, added and removed while the proxy runs, answer with an error status,
delay the answer, drop the connection before or after the upstream has acted, or reset it halfway
through the response.

Bodies are buffered in memory (request bodies up to ``max_body``, 64 MiB by default); clients get
``Content-Length`` framing and HTTP/1.1 keep-alive; each forwarded request uses a fresh upstream
connection, so the proxy never retries or replays anything on its own.

Usage::

    upstreams = {"identity": "http://127.0.0.1:15000", "compute": "http://127.0.0.1:15003"}
    with FaultProxy(upstreams) as proxy:
        handle = proxy.add_fault(Fault(DropAfterForward(), "compute", methods="POST", times=1))
        ...  # point the client at clouds_entry(proxy, entry)
        assert handle.fired == 1
        assert proxy.count("POST", "compute") == 2
"""

from __future__ import annotations

import contextlib
import copy
import http.client
import json
import logging
import random
import re
import socket
import socketserver
import ssl
import struct
import threading
import time
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType, TracebackType
from typing import Any, Self, TypeAlias
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024 * 1024
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LISTEN_HOST = "127.0.0.1"

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
#: Request headers the proxy sets itself (or deliberately drops) when forwarding.
_NOT_FORWARDED = frozenset({"host", "content-length", "accept-encoding", "expect"})
#: Response headers that carry URLs and are rewritten like bodies.
_URL_HEADERS = frozenset({"location", "content-location", "link"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LOOPBACK_NAMES = ("127.0.0.1", "localhost")


# --------------------------------------------------------------------------------------------
# Fault actions and rules


@dataclass(frozen=True)
class Status:
    """Answer ``code`` instead of the upstream.

    By default the request is not forwarded (the upstream never sees it); with ``forward=True``
    the upstream processes it first and its answer is replaced (a create that "failed" with a 500
    although the cloud applied it). ``body`` defaults to an OpenStack-style JSON error.
    """

    code: int = 503
    body: bytes | str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    forward: bool = False

    def payload(self) -> tuple[bytes, str]:
        """The body bytes and their default content type."""
        if self.body is None:
            return _error_body(self.code, "fault injected by FaultProxy"), "application/json"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return self.body, "application/octet-stream"


@dataclass(frozen=True)
class Delay:
    """Forward the request, then hold the (complete) answer for ``seconds`` (a slow service)."""

    seconds: float


@dataclass(frozen=True)
class Hold:
    """Hold the request ``seconds`` BEFORE forwarding it: the client has sent it and waits, the
    upstream has not seen it yet. With ``FaultHandle.arrived`` a test can act (kill the client)
    at exactly that point."""

    seconds: float


@dataclass(frozen=True)
class DropBeforeForward:
    """Close the client connection without forwarding: the upstream never sees the request."""


@dataclass(frozen=True)
class DropAfterForward:
    """Forward the request, read the whole upstream answer, then close the client connection
    without a response: the cloud HAS applied the change, the client sees a dropped connection."""


@dataclass(frozen=True)
class ResetMidResponse:
    """Forward, send the status line, headers and the first ``after_bytes`` of the body (half by
    default, always short of the whole), then reset the connection (TCP RST)."""

    after_bytes: int | None = None


Action: TypeAlias = Status | Delay | Hold | DropBeforeForward | DropAfterForward | ResetMidResponse


@dataclass(frozen=True)
class Fault:
    """A rule: which requests it matches and the :data:`Action` applied when it fires.

    A request is a *candidate* when ``label``, ``methods`` and ``path`` (a regular expression
    searched in the path with query) all match (``None`` matches anything). Among candidates the
    rule fires on every ``every``-th one, then with ``probability`` (drawn from a ``random.Random``
    seeded with ``seed``, one draw per candidate that passed ``every``), at most ``times`` times.
    Rules are tried in the order they were added; the first that fires wins, later ones do not see
    the request.
    """

    action: Action
    label: str | None = None
    methods: str | Collection[str] | None = None
    path: str | None = None
    times: int | None = None
    every: int | None = None
    probability: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.times is not None and self.times < 0:
            raise ValueError("times must be >= 0")
        if self.every is not None and self.every < 1:
            raise ValueError("every must be >= 1")
        if self.probability is not None and not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")
        if self.path is not None:
            re.compile(self.path)
        if isinstance(self.action, Delay) and self.action.seconds < 0:
            raise ValueError("Delay.seconds must be >= 0")


class FaultHandle:
    """A rule added to a proxy: counts candidates (``seen``) and firings (``fired``).

    Usable as a context manager that removes the rule on exit.
    """

    def __init__(self, proxy: FaultProxy, rule: Fault) -> None:
        self.rule = rule
        self._proxy = proxy
        self._lock = proxy._lock
        methods = [rule.methods] if isinstance(rule.methods, str) else rule.methods
        self._methods = None if methods is None else frozenset(m.upper() for m in methods)
        self._path = None if rule.path is None else re.compile(rule.path)
        self._rng = random.Random(rule.seed)
        self._seen = 0
        self._fired = 0
        self._removed = False
        self.arrived = threading.Event()  # set each time the rule fires

    @property
    def fired(self) -> int:
        with self._lock:
            return self._fired

    @property
    def seen(self) -> int:
        with self._lock:
            return self._seen

    @property
    def active(self) -> bool:
        """Still installed and not used up (``times`` not reached)."""
        with self._lock:
            return not self._removed and not self._exhausted()

    def remove(self) -> None:
        self._proxy.remove_fault(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"FaultHandle({self.rule!r}, seen={self._seen}, fired={self._fired})"

    def _exhausted(self) -> bool:
        return self.rule.times is not None and self._fired >= self.rule.times

    def _decide(self, label: str, method: str, path: str) -> bool:
        """Whether the rule fires for this request; the caller holds the proxy lock."""
        rule = self.rule
        candidate = (
            not self._removed
            and not self._exhausted()
            and (rule.label is None or rule.label == label)
            and (self._methods is None or method.upper() in self._methods)
            and (self._path is None or self._path.search(path) is not None)
        )
        if not candidate:
            return False
        self._seen += 1
        fires = (rule.every is None or self._seen % rule.every == 0) and (
            rule.probability is None or self._rng.random() < rule.probability
        )
        if fires:
            self._fired += 1
            self.arrived.set()
        return fires


# --------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class Record:
    """One exchange as the client experienced it.

    ``status`` is what the client received (``None`` when the connection was dropped or reset
    before a complete answer); ``upstream_status`` is what the upstream answered (``None`` when the
    request never reached it); ``fault`` names the action applied (``"DropAfterForward"``, …).
    ``connection`` numbers client connections, so keep-alive reuse is visible. Bodies are kept only
    with ``FaultProxy(record_bodies=True)``; ``response_body`` is the rewritten body.
    """

    time: float
    label: str
    method: str
    path: str
    status: int | None
    fault: str | None
    duration: float
    request_bytes: int
    response_bytes: int = 0
    upstream_status: int | None = None
    connection: int = 0
    error: str | None = None
    request_body: bytes | None = field(default=None, repr=False)
    response_body: bytes | None = field(default=None, repr=False)

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS

    @property
    def forwarded(self) -> bool:
        """The upstream answered this request (whatever the client then got)."""
        return self.upstream_status is not None


@dataclass
class _Exchange:
    label: str
    method: str
    path: str
    connection: int
    started: float = field(default_factory=time.time)
    clock: float = field(default_factory=time.monotonic)
    status: int | None = None
    upstream_status: int | None = None
    fault: str | None = None
    error: str | None = None
    request_bytes: int = 0
    response_bytes: int = 0
    request_body: bytes | None = None
    response_body: bytes | None = None
    recorded: bool = False

    def freeze(self) -> Record:
        return Record(
            time=self.started,
            label=self.label,
            method=self.method,
            path=self.path,
            status=self.status,
            fault=self.fault,
            duration=time.monotonic() - self.clock,
            request_bytes=self.request_bytes,
            response_bytes=self.response_bytes,
            upstream_status=self.upstream_status,
            connection=self.connection,
            error=self.error,
            request_body=self.request_body,
            response_body=self.response_body,
        )


# --------------------------------------------------------------------------------------------
# Upstreams and URL rewriting


@dataclass(frozen=True)
class _Upstream:
    label: str
    base: str  # as given, without a trailing slash
    scheme: str
    host: str
    port: int
    path: str  # base path prefix, "" or "/identity"

    @classmethod
    def parse(cls, label: str, url: str) -> _Upstream:
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"upstream {label!r}: {url!r} is not an http(s)://host[:port] URL")
        if parts.query or parts.fragment:
            raise ValueError(f"upstream {label!r}: {url!r} must not have a query or fragment")
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
        return cls(
            label, url.rstrip("/"), parts.scheme, parts.hostname, port, parts.path.rstrip("/")
        )

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    def spellings(self) -> set[str]:
        """The ways this base URL may be written in a document."""
        hosts = {self.host}
        if self.host in _LOOPBACK_NAMES:
            hosts.update(_LOOPBACK_NAMES)
        found: set[str] = set()
        for host in hosts:
            shown = f"[{host}]" if ":" in host else host
            found.add(f"{self.scheme}://{shown}:{self.port}{self.path}")
            if self.port == _DEFAULT_PORTS[self.scheme]:
                found.add(f"{self.scheme}://{shown}{self.path}")
        return found


class _Rewriter:
    """Replace base URLs (plain and JSON-escaped ``\\/``) by others, in one pass.

    A base matches only where it ends (no host, port or path-segment character follows), so
    ``http://h:1500`` never matches inside ``http://h:15000``; longer bases win.
    """

    def __init__(self, table: Mapping[str, str]) -> None:
        full: dict[bytes, bytes] = {}
        for old, new in table.items():
            full[old.encode()] = new.encode()
            full[old.replace("/", "\\/").encode()] = new.replace("/", "\\/").encode()
        self._table = full
        needles = sorted(full, key=len, reverse=True)
        alternatives = b"|".join(re.escape(needle) for needle in needles)
        self._pattern = re.compile(b"(?:" + alternatives + rb")(?![\w.:-])")

    def _swap(self, match: re.Match[bytes]) -> bytes:
        return self._table[match.group(0)]

    def data(self, data: bytes) -> bytes:
        return self._pattern.sub(self._swap, data)

    def text(self, text: str) -> str:
        return self.data(text.encode("utf-8", "surrogateescape")).decode("utf-8", "surrogateescape")


def _is_textual(content_type: str | None) -> bool:
    if not content_type:
        return True
    kind = content_type.split(";", 1)[0].strip().lower()
    return (
        kind.startswith("text/")
        or "json" in kind
        or "xml" in kind
        or kind in {"application/javascript", "application/x-www-form-urlencoded"}
    )


def _error_body(code: int, message: str) -> bytes:
    title = http.client.responses.get(code, "Error")
    return json.dumps({"error": {"code": code, "title": title, "message": message}}).encode()


def _catalog_urls(document: Any) -> Iterator[str]:
    """Endpoint URLs of a Keystone v3 catalog (token response or ``/auth/catalog``)."""
    if not isinstance(document, dict):
        return
    token = document.get("token")
    catalog = token.get("catalog") if isinstance(token, dict) else document.get("catalog")
    if not isinstance(catalog, list):
        return
    for service in catalog:
        endpoints = service.get("endpoints") if isinstance(service, dict) else None
        for endpoint in endpoints if isinstance(endpoints, list) else []:
            if isinstance(endpoint, dict) and isinstance(endpoint.get("url"), str):
                yield endpoint["url"]


@dataclass(frozen=True)
class _Response:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    declared_length: str | None = None  # upstream Content-Length, kept for HEAD/304


class _UpstreamError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _ClientGone(Exception):
    pass


# --------------------------------------------------------------------------------------------
# The proxy


class FaultProxy:
    """A reverse proxy with one local port per upstream; see the module docstring."""

    def __init__(
        self,
        upstreams: Mapping[str, str],
        *,
        record_bodies: bool = False,
        upstream_timeout: float = 60.0,
        idle_timeout: float = 120.0,
        max_body: int = MAX_BODY,
        upstream_ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if not upstreams:
            raise ValueError("FaultProxy needs at least one upstream")
        self._upstreams = {label: _Upstream.parse(label, url) for label, url in upstreams.items()}
        owners: dict[str, str] = {}
        for label, upstream in self._upstreams.items():
            for spelling in upstream.spellings():
                if spelling in owners:
                    raise ValueError(
                        f"upstreams {owners[spelling]!r} and {label!r} share the base {spelling}"
                    )
                owners[spelling] = label
        self.record_bodies = record_bodies
        self.upstream_timeout = upstream_timeout
        self.idle_timeout = idle_timeout
        self.max_body = max_body
        self._ssl_context = upstream_ssl_context
        self._lock = threading.RLock()
        self._state = "new"
        self._stopping = threading.Event()
        self._servers: dict[str, _Server] = {}
        self._threads: list[threading.Thread] = []
        self._connections: set[socket.socket] = set()
        self._connection_count = 0
        self._records: list[Record] = []
        self._rules: list[FaultHandle] = []
        self._unproxied: set[str] = set()
        self._proxy_bases: dict[str, str] = {}
        self._to_proxy: _Rewriter | None = None
        self._to_upstream: _Rewriter | None = None

    # ---- lifecycle

    def start(self) -> Self:
        with self._lock:
            if self._state != "new":
                raise RuntimeError(f"FaultProxy cannot start: it is {self._state}")
            try:
                for label, upstream in self._upstreams.items():
                    self._servers[label] = _Server(self, upstream)
            except OSError:
                for server in self._servers.values():
                    server.server_close()
                raise
            forward: dict[str, str] = {}
            backward: dict[str, str] = {}
            for label, upstream in self._upstreams.items():
                port = self._servers[label].port
                base = f"http://{LISTEN_HOST}:{port}{upstream.path}"
                self._proxy_bases[label] = base
                forward.update(dict.fromkeys(upstream.spellings(), base))
                for host in _LOOPBACK_NAMES:
                    backward[f"http://{host}:{port}{upstream.path}"] = upstream.base
            self._to_proxy, self._to_upstream = _Rewriter(forward), _Rewriter(backward)
            for label, server in self._servers.items():
                thread = threading.Thread(
                    target=server.serve_forever,
                    kwargs={"poll_interval": 0.05},
                    name=f"faultproxy-{label}",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)
            self._state = "running"
            log.info("faultproxy started: %s", dict(self.rewrite_map))
            return self

    def stop(self) -> None:
        """Stop listening, cut open client connections and cut delays short; idempotent."""
        with self._lock:
            if self._state != "running":
                self._state = "stopped"
                return
            self._state = "stopped"
            servers = list(self._servers.values())
        self._stopping.set()
        # shutdown() waits for the serve loop's next poll; do all servers at once
        stoppers = [threading.Thread(target=server.shutdown, daemon=True) for server in servers]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join(timeout=5)
        for server in servers:
            server.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)
        log.info("faultproxy stopped after %d requests", len(self._records))

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ---- addresses and rewriting

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self._upstreams)

    def url(self, label: str) -> str:
        """The proxy base URL standing for upstream ``label`` (with its path prefix, if any)."""
        self._require_started()
        try:
            return self._proxy_bases[label]
        except KeyError:
            raise KeyError(f"no upstream labelled {label!r}; known: {self.labels}") from None

    def port(self, label: str) -> int:
        self._require_started()
        return self._servers[label].port

    @property
    def rewrite_map(self) -> Mapping[str, str]:
        """Upstream base URL → proxy base URL."""
        self._require_started()
        return MappingProxyType(
            {up.base: self._proxy_bases[label] for label, up in self._upstreams.items()}
        )

    def rewrite(self, text: str) -> str:
        """``text`` with every upstream base URL replaced by its proxy URL."""
        self._require_started()
        assert self._to_proxy is not None
        return self._to_proxy.text(text)

    @property
    def unproxied_endpoints(self) -> frozenset[str]:
        """Catalog endpoint URLs seen in responses that do not point at this proxy: clients
        reach those services directly (add an upstream for them)."""
        with self._lock:
            return frozenset(self._unproxied)

    # ---- records

    @property
    def records(self) -> tuple[Record, ...]:
        """Completed exchanges, in completion order."""
        with self._lock:
            return tuple(self._records)

    def clear(self) -> None:
        """Forget the records (fault rules stay)."""
        with self._lock:
            self._records.clear()

    def select(
        self, method: str | None = None, label: str | None = None, *, path: str | None = None
    ) -> list[Record]:
        """Records filtered by method, label and a path regular expression (searched)."""
        pattern = None if path is None else re.compile(path)
        return [
            record
            for record in self.records
            if (method is None or record.method == method.upper())
            and (label is None or record.label == label)
            and (pattern is None or pattern.search(record.path))
        ]

    def count(
        self, method: str | None = None, label: str | None = None, *, path: str | None = None
    ) -> int:
        return len(self.select(method, label, path=path))

    def tally(self) -> dict[tuple[str, str], int]:
        """Request counts per (label, method), e.g. ``{("compute", "POST"): 3, …}``."""
        counts: dict[tuple[str, str], int] = {}
        for record in self.records:
            key = (record.label, record.method)
            counts[key] = counts.get(key, 0) + 1
        return counts

    def writes(self, label: str | None = None) -> list[Record]:
        """POST/PUT/PATCH/DELETE records."""
        return [record for record in self.select(None, label) if record.is_write]

    def containing(self, needle: str | bytes) -> list[Record]:
        """Records whose path, request body or response body contains ``needle``.

        Needs ``record_bodies=True`` (otherwise it could not see a leak and says so).
        """
        if not self.record_bodies:
            raise RuntimeError("FaultProxy(record_bodies=True) is needed to search bodies")
        raw = needle.encode() if isinstance(needle, str) else needle
        return [
            record
            for record in self.records
            if raw in record.path.encode()
            or raw in (record.request_body or b"")
            or raw in (record.response_body or b"")
        ]

    # ---- faults

    def add_fault(self, rule: Fault) -> FaultHandle:
        if rule.label is not None and rule.label not in self._upstreams:
            raise KeyError(f"fault for unknown label {rule.label!r}; known: {self.labels}")
        handle = FaultHandle(self, rule)
        with self._lock:
            self._rules.append(handle)
        return handle

    def remove_fault(self, handle: FaultHandle) -> None:
        with self._lock:
            if handle in self._rules:
                self._rules.remove(handle)
            handle._removed = True

    def clear_faults(self) -> None:
        with self._lock:
            for handle in self._rules:
                handle._removed = True
            self._rules.clear()

    @property
    def faults(self) -> tuple[FaultHandle, ...]:
        with self._lock:
            return tuple(self._rules)

    # ---- used by the request handler

    def _require_started(self) -> None:
        if self._state == "new":
            raise RuntimeError("FaultProxy is not started (use start() or a with block)")

    def _pick(self, label: str, method: str, path: str) -> Action | None:
        with self._lock:
            for handle in self._rules:
                if handle._decide(label, method, path):
                    return handle.rule.action
        return None

    def _register(self, connection: socket.socket) -> int:
        with self._lock:
            self._connection_count += 1
            if not self._stopping.is_set():
                self._connections.add(connection)
                return self._connection_count
        with contextlib.suppress(OSError):  # accepted while stopping: end it now
            connection.shutdown(socket.SHUT_RDWR)
        return self._connection_count

    def _unregister(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def _record(self, exchange: _Exchange) -> None:
        """Publish the exchange once, before its last byte reaches the client (so a client that
        has its answer always finds the record)."""
        if exchange.recorded:
            return
        exchange.recorded = True
        record = exchange.freeze()
        with self._lock:
            self._records.append(record)
        log.debug(
            "%s %s %s -> %s%s (%.1f ms)",
            record.label,
            record.method,
            record.path,
            record.status if record.status is not None else "no answer",
            f" [{record.fault}]" if record.fault else "",
            record.duration * 1000,
        )

    def _sleep(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def _upstream_connection(self, upstream: _Upstream) -> http.client.HTTPConnection:
        if upstream.scheme == "https":
            context = self._ssl_context or ssl.create_default_context()
            return http.client.HTTPSConnection(
                upstream.host, upstream.port, timeout=self.upstream_timeout, context=context
            )
        return http.client.HTTPConnection(
            upstream.host, upstream.port, timeout=self.upstream_timeout
        )

    def _rewrite_request_body(self, body: bytes, content_type: str | None) -> bytes:
        assert self._to_upstream is not None
        if body and _is_textual(content_type):
            return self._to_upstream.data(body)
        return body

    def _rewrite_header(self, value: str) -> str:
        assert self._to_upstream is not None
        return self._to_upstream.text(value)

    def _rewrite_response(self, response: _Response) -> _Response:
        assert self._to_proxy is not None
        headers: list[tuple[str, str]] = []
        drop = _connection_tokens(response.headers)
        declared: str | None = None
        content_type: str | None = None
        encoded = False
        for name, value in response.headers:
            lowered = name.lower()
            if lowered == "content-length":
                declared = value
                continue
            if lowered in _HOP_BY_HOP or lowered in drop:
                continue
            if lowered == "content-type":
                content_type = value
            if lowered == "content-encoding" and value.strip().lower() not in {"", "identity"}:
                encoded = True
            headers.append((name, self._to_proxy.text(value) if lowered in _URL_HEADERS else value))
        body = response.body
        if body and not encoded and _is_textual(content_type):
            body = self._to_proxy.data(body)
            if b'"catalog"' in body:
                self._check_catalog(body)
        return _Response(response.status, response.reason, headers, body, declared)

    def _check_catalog(self, body: bytes) -> None:
        try:
            document = json.loads(body)
        except ValueError:
            return
        bases = tuple(self._proxy_bases.values())
        for url in _catalog_urls(document):
            if not url.startswith(bases):
                with self._lock:
                    new = url not in self._unproxied
                    self._unproxied.add(url)
                if new:
                    log.warning("faultproxy: catalog endpoint %s bypasses the proxy", url)


def _connection_tokens(headers: list[tuple[str, str]]) -> frozenset[str]:
    """Header names listed in ``Connection`` (hop-by-hop by declaration)."""
    return frozenset(
        token.strip().lower()
        for name, value in headers
        if name.lower() == "connection"
        for token in value.split(",")
        if token.strip()
    )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, proxy: FaultProxy, upstream: _Upstream) -> None:
        self.proxy = proxy
        self.upstream = upstream
        super().__init__((LISTEN_HOST, 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (slow without DNS); not needed here.
        socketserver.TCPServer.server_bind(self)
        self.server_name = LISTEN_HOST
        self.server_port = self.port

    @property
    def port(self) -> int:
        return int(self.socket.getsockname()[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("faultproxy: unexpected error serving %s", client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    _connection_id = 0

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.proxy.idle_timeout)
        self._connection_id = self.server.proxy._register(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.proxy._unregister(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("faultproxy %s: " + format, self.server.upstream.label, *args)

    def _proxy(self) -> None:
        proxy = self.server.proxy
        exchange = _Exchange(
            self.server.upstream.label, self.command, self.path, self._connection_id
        )
        try:
            self._exchange(proxy, exchange)
        except _ClientGone as error:
            exchange.error = exchange.error or f"client went away: {error.__cause__!r}"
            log.debug("faultproxy %s: %s", exchange.label, exchange.error)
            self.close_connection = True
        finally:
            proxy._record(exchange)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_COPY = _proxy

    # ---- the exchange

    def _exchange(self, proxy: FaultProxy, exchange: _Exchange) -> None:
        try:
            body = self._read_body(proxy.max_body)
        except _BadRequest as error:
            exchange.error = str(error)
            self.close_connection = True
            self._reply_local(exchange, error.status, _error_body(error.status, str(error)))
            return
        exchange.request_bytes = len(body)
        if proxy.record_bodies:
            exchange.request_body = body

        action = proxy._pick(exchange.label, exchange.method, exchange.path)
        if action is not None:
            exchange.fault = type(action).__name__
        if isinstance(action, Hold):
            proxy._sleep(action.seconds)
        if isinstance(action, DropBeforeForward):
            self._drop()
        elif isinstance(action, Status) and not action.forward:
            self._reply_fault(exchange, action)
        else:
            self._forward_and_answer(proxy, exchange, body, action)

    def _forward_and_answer(
        self, proxy: FaultProxy, exchange: _Exchange, body: bytes, action: Action | None
    ) -> None:
        try:
            upstream = self._forward(proxy, body)
        except _UpstreamError as error:
            log.info("faultproxy %s: %s", exchange.label, error)
            exchange.error = str(error)
            self._reply_local(exchange, error.status, _error_body(error.status, str(error)))
            return
        exchange.upstream_status = upstream.status
        if isinstance(action, DropAfterForward):
            self._drop()
        elif isinstance(action, Status):
            self._reply_fault(exchange, action)
        elif isinstance(action, ResetMidResponse):
            self._reply_and_reset(exchange, proxy._rewrite_response(upstream), action)
        else:
            response = proxy._rewrite_response(upstream)
            if isinstance(action, Delay):
                proxy._sleep(action.seconds)
            self._reply(exchange, response)

    def _read_body(self, limit: int) -> bytes:
        encoding = self.headers.get("Transfer-Encoding", "")
        if "chunked" in encoding.lower():
            return self._read_chunked(limit)
        declared = self.headers.get("Content-Length")
        if declared is None:
            return b""
        try:
            length = int(declared)
        except ValueError:
            raise _BadRequest(400, f"bad Content-Length {declared!r}") from None
        if length < 0:
            raise _BadRequest(400, f"bad Content-Length {declared!r}")
        if length > limit:
            raise _BadRequest(413, f"request body of {length} bytes exceeds {limit}")
        return self._read_exactly(length)

    def _read_exactly(self, length: int) -> bytes:
        try:
            data = self.rfile.read(length)
        except OSError as error:
            raise _ClientGone from error
        if len(data) != length:
            raise _ClientGone from EOFError(f"body ended after {len(data)} of {length} bytes")
        return data

    def _read_line(self) -> bytes:
        try:
            line = self.rfile.readline(65537)
        except OSError as error:
            raise _ClientGone from error
        if not line:
            raise _ClientGone from EOFError("connection closed inside a chunked body")
        return line

    def _read_chunked(self, limit: int) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self._read_line()
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadRequest(400, f"bad chunk size line {line[:40]!r}") from None
            if size == 0:
                break
            total += size
            if total > limit:
                raise _BadRequest(413, f"chunked request body exceeds {limit} bytes")
            chunks.append(self._read_exactly(size))
            self._read_line()  # the CRLF after the chunk data
        while self._read_line() not in (b"\r\n", b"\n"):  # trailers, then the blank line
            pass
        return b"".join(chunks)

    def _forward(self, proxy: FaultProxy, body: bytes) -> _Response:
        upstream = self.server.upstream
        body = proxy._rewrite_request_body(body, self.headers.get("Content-Type"))
        header_items = list(self.headers.items())
        drop = _connection_tokens(header_items)
        had_framing = "Content-Length" in self.headers or "Transfer-Encoding" in self.headers
        connection = proxy._upstream_connection(upstream)
        try:
            connection.putrequest(
                self.command, self.path, skip_host=True, skip_accept_encoding=True
            )
            connection.putheader("Host", upstream.netloc)
            for name, value in header_items:
                lowered = name.lower()
                if lowered in _HOP_BY_HOP or lowered in _NOT_FORWARDED or lowered in drop:
                    continue
                connection.putheader(name, proxy._rewrite_header(value))
            if body or had_framing or self.command in {"POST", "PUT", "PATCH"}:
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body or None)
            response = connection.getresponse()
            data = response.read()
            return _Response(response.status, response.reason, response.getheaders(), data)
        except TimeoutError as error:
            raise _UpstreamError(504, f"upstream {upstream.base} timed out") from error
        except (OSError, http.client.HTTPException, ValueError) as error:
            raise _UpstreamError(
                502, f"upstream {upstream.base}: {type(error).__name__}: {error}"
            ) from error
        finally:
            connection.close()

    # ---- answers

    def _has_body(self, status: int) -> bool:
        return self.command != "HEAD" and status not in (204, 304) and status >= 200

    def _head(self, response: _Response) -> bytes:
        """Status line and headers, with framing for ``response``."""
        reason = response.reason or http.client.responses.get(response.status, "")
        lines = [f"HTTP/1.1 {response.status} {reason}"]
        lines += [f"{name}: {value}" for name, value in response.headers]
        if self._has_body(response.status):
            lines.append(f"Content-Length: {len(response.body)}")
        elif response.declared_length is not None and response.status != 204:
            lines.append(f"Content-Length: {response.declared_length}")
        if self.close_connection:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")

    def _send(self, data: bytes) -> None:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError as error:
            raise _ClientGone from error

    def _reply(self, exchange: _Exchange, response: _Response) -> None:
        body = response.body if self._has_body(response.status) else b""
        head = self._head(response)
        exchange.status = response.status
        exchange.response_bytes = len(body)
        if self.server.proxy.record_bodies:
            exchange.response_body = response.body
        self.server.proxy._record(exchange)
        self._send(head + body if len(body) < 65536 else head)
        if len(body) >= 65536:
            self._send(body)

    def _reply_local(
        self,
        exchange: _Exchange,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        extra: Mapping[str, str] | None = None,
    ) -> None:
        headers = [("Date", self.date_time_string()), ("Content-Type", content_type)]
        headers += [(name, value) for name, value in (extra or {}).items()]
        reason = http.client.responses.get(status, "")
        self._reply(exchange, _Response(status, reason, headers, body, str(len(body))))

    def _reply_fault(self, exchange: _Exchange, action: Status) -> None:
        body, default_type = action.payload()
        extra = dict(action.headers)
        content_type = next(
            (value for name, value in extra.items() if name.lower() == "content-type"),
            default_type,
        )
        extra = {name: value for name, value in extra.items() if name.lower() != "content-type"}
        self._reply_local(exchange, action.code, body, content_type, extra)

    def _drop(self) -> None:
        """Close the connection without a byte of response (the server closes it on return)."""
        self.close_connection = True

    def _reply_and_reset(
        self, exchange: _Exchange, response: _Response, action: ResetMidResponse
    ) -> None:
        body = response.body if self._has_body(response.status) else b""
        if body:
            wanted = len(body) // 2 if action.after_bytes is None else action.after_bytes
            partial = self._head(response) + body[: max(0, min(wanted, len(body) - 1))]
        else:  # nothing to cut short: stop inside the header block instead
            partial = self._head(response).split(b"\r\n", 1)[0] + b"\r\n"
        exchange.response_bytes = len(partial)
        self.server.proxy._record(exchange)
        with contextlib.suppress(OSError):
            self.wfile.write(partial)
            self.wfile.flush()
        self.close_connection = True
        _reset(self.connection)


def _reset(connection: socket.socket) -> None:
    """Abort ``connection`` with a TCP RST (SO_LINGER with a zero timeout, then close)."""
    with contextlib.suppress(OSError):
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


# --------------------------------------------------------------------------------------------
# clouds.yaml helper


def clouds_entry(proxy: FaultProxy, base_entry: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a clouds.yaml cloud entry whose ``auth_url`` (and any ``*endpoint_override`` /
    ``endpoint``) points at ``proxy`` instead of the upstream, keeping the path (``/v3``).

    Raises ``ValueError`` when ``auth_url`` is not one of the proxy's upstreams: a test would
    otherwise talk to the cloud directly and count nothing.
    """
    entry = copy.deepcopy(dict(base_entry))
    auth = entry.get("auth")
    if not isinstance(auth, dict) or not isinstance(auth.get("auth_url"), str):
        raise ValueError("the cloud entry has no auth.auth_url")
    rewritten = proxy.rewrite(auth["auth_url"])
    if rewritten == auth["auth_url"]:
        raise ValueError(
            f"auth_url {auth['auth_url']} is not behind the proxy; upstreams: "
            + ", ".join(proxy.rewrite_map)
        )
    auth["auth_url"] = rewritten
    overrides: list[tuple[dict[str, Any], str]] = [(entry, key) for key in entry]
    overrides += [(auth, "endpoint")]
    for owner, key in overrides:
        value = owner.get(key)
        if isinstance(value, str) and (key == "endpoint" or key.endswith("endpoint_override")):
            owner[key] = proxy.rewrite(value)
    return entry


__all__ = [
    "MAX_BODY",
    "WRITE_METHODS",
    "Action",
    "Delay",
    "DropAfterForward",
    "DropBeforeForward",
    "Fault",
    "FaultHandle",
    "FaultProxy",
    "Record",
    "ResetMidResponse",
    "Status",
    "clouds_entry",
]
