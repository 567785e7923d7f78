"""FaultProxy against real local upstream servers: rewriting, recording, faults, robustness."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import random
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import openstack
import pytest
import requests

from tests.support.faultproxy import (
    Delay,
    DropAfterForward,
    DropBeforeForward,
    Fault,
    FaultProxy,
    ResetMidResponse,
    Status,
    clouds_entry,
)
from tests.support.tls import make_authority, tls_endpoint

pytestmark = pytest.mark.unit

MIB = 1024 * 1024
UNMAPPED = "http://127.0.0.1:9/unmapped/v1"


# --------------------------------------------------------------------------------------------
# A small upstream: Keystone-like documents with its own base URL, echo, items, streams


def _pattern(size: int) -> bytes:
    block = bytes(range(256)) * 4096  # 1 MiB
    return (block * (size // len(block) + 1))[:size]


@dataclass
class Upstream:
    name: str
    peers: dict[str, str] = field(default_factory=dict)
    received: list[tuple[str, str, bytes]] = field(default_factory=list)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_headers: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def count(self, method: str, path: str | None = None) -> int:
        with self.lock:
            return sum(
                1 for m, p, _ in self.received if m == method and (path is None or p == path)
            )

    def bodies(self) -> list[bytes]:
        with self.lock:
            return [body for _, _, body in self.received]


def _token(upstream: Upstream) -> dict[str, Any]:
    catalog = [
        {
            "type": kind,
            "name": kind,
            "id": kind,
            "endpoints": [
                {
                    "id": f"{kind}-public",
                    "interface": "public",
                    "region": "RegionOne",
                    "region_id": "RegionOne",
                    "url": url,
                }
            ],
        }
        for kind, url in [("identity", upstream.base + "/v3"), *upstream.peers.items()]
    ]
    domain = {"id": "default", "name": "Default"}
    return {
        "token": {
            "methods": ["password"],
            "expires_at": "2999-01-01T00:00:00.000000Z",
            "issued_at": "2020-01-01T00:00:00.000000Z",
            "user": {"id": "u1", "name": "admin", "domain": domain},
            "project": {"id": "p1", "name": "admin", "domain": domain},
            "roles": [{"id": "r1", "name": "admin"}],
            "catalog": catalog,
        }
    }


class _UpstreamHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream: Upstream  # set on a per-server subclass

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _json(self, status: int, document: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _raw(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        up = self.upstream
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with up.lock:
            up.received.append((self.command, self.path, body))
            up.last_headers = dict(self.headers.items())
        url = urlsplit(self.path)
        if "/echo" in url.path:
            self._echo(body)
            return
        route = _ROUTES.get((self.command, url.path))
        if route is None:
            self._json(404, {"error": {"code": 404, "message": f"no route {url.path}"}})
        else:
            route(self, body)

    def _echo(self, body: bytes) -> None:
        document = {
            "method": self.command,
            "path": self.path,
            "length": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
            "headers": dict(self.headers.items()),
            "self": self.upstream.base + self.path,
        }
        self._json(200, document, {"Content-Length": "1234"} if self.command == "HEAD" else None)

    def _version(self, body: bytes) -> None:
        link = {"rel": "self", "href": self.upstream.base + "/v3/"}
        media = {"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}
        version = {"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z"}
        self._json(200, {"version": {**version, "links": [link], "media-types": [media]}})

    def _tokens(self, body: bytes) -> None:
        self._json(201, _token(self.upstream), {"X-Subject-Token": "tok-" + self.upstream.name})

    def _catalog(self, body: bytes) -> None:
        self._json(200, {"catalog": _token(self.upstream)["token"]["catalog"]})

    def _create_item(self, body: bytes) -> None:
        up = self.upstream
        item = json.loads(body)
        item_id = uuid.uuid4().hex
        with up.lock:
            up.items[item_id] = item
        href = f"{up.base}/items/{item_id}"
        document = {"item": {**item, "id": item_id, "links": [{"href": href}]}}
        self._json(201, document, {"Location": href})

    def _list_items(self, body: bytes) -> None:
        with self.upstream.lock:
            listed = [{"id": key, **value} for key, value in self.upstream.items.items()]
        self._json(200, {"items": listed})

    def _redirect(self, body: bytes) -> None:
        self._raw(302, b"", {"Location": self.upstream.base + "/v3"})

    def _chunked(self, body: bytes) -> None:
        text = json.dumps({"links": [{"href": self.upstream.base + "/v3"}] * 50}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for start in range(0, len(text), 7):  # base URLs are split across chunks
            piece = text[start : start + 7]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        self.wfile.write(b"0\r\n\r\n")

    def _no_content(self, body: bytes) -> None:
        self.send_response(204)
        self.end_headers()

    def _not_modified(self, body: bytes) -> None:
        self.send_response(304)
        self.send_header("ETag", '"v1"')
        self.end_headers()

    def _blob(self, body: bytes) -> None:
        data = b"\x00" + self.upstream.base.encode() + b"\xff"
        self._raw(200, data, {"Content-Type": "image/png"})

    def _gzip(self, body: bytes) -> None:
        packed = gzip.compress(json.dumps({"href": self.upstream.base}).encode())
        self._raw(200, packed, {"Content-Type": "application/json", "Content-Encoding": "gzip"})

    def _upload(self, body: bytes) -> None:
        self._json(200, {"length": len(body), "sha256": hashlib.sha256(body).hexdigest()})

    def _download(self, body: bytes) -> None:
        size = int(parse_qs(urlsplit(self.path).query)["size"][0])
        self._raw(200, _pattern(size), {"Content-Type": "application/octet-stream"})

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


_ROUTES: dict[tuple[str, str], Callable[[_UpstreamHandler, bytes], None]] = {
    ("GET", "/v3"): _UpstreamHandler._version,
    ("GET", "/v3/"): _UpstreamHandler._version,
    ("POST", "/v3/auth/tokens"): _UpstreamHandler._tokens,
    ("GET", "/catalog"): _UpstreamHandler._catalog,
    ("POST", "/items"): _UpstreamHandler._create_item,
    ("GET", "/items"): _UpstreamHandler._list_items,
    ("GET", "/redirect"): _UpstreamHandler._redirect,
    ("GET", "/chunked"): _UpstreamHandler._chunked,
    ("GET", "/nocontent"): _UpstreamHandler._no_content,
    ("GET", "/notmodified"): _UpstreamHandler._not_modified,
    ("GET", "/blob"): _UpstreamHandler._blob,
    ("GET", "/gzip"): _UpstreamHandler._gzip,
    ("PUT", "/upload"): _UpstreamHandler._upload,
    ("GET", "/download"): _UpstreamHandler._download,
}


class _UpstreamServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


@pytest.fixture
def upstreams() -> Iterator[dict[str, Upstream]]:
    found = {"identity": Upstream("identity"), "compute": Upstream("compute")}
    threads = []
    for upstream in found.values():
        handler = type("Handler", (_UpstreamHandler,), {"upstream": upstream})
        upstream.server = _UpstreamServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(
            target=upstream.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        thread.start()
        threads.append(thread)
    found["identity"].peers = {"compute": found["compute"].base + "/v2.1", "unmapped": UNMAPPED}
    yield found
    for upstream in found.values():
        assert upstream.server is not None
        upstream.server.shutdown()
        upstream.server.server_close()


@pytest.fixture
def proxy(upstreams: dict[str, Upstream]) -> Iterator[FaultProxy]:
    with FaultProxy({label: up.base for label, up in upstreams.items()}) as running:
        yield running


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    base: str,
    path: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """One request on a fresh connection (http.client does not follow redirects)."""
    parts = urlsplit(base)
    assert parts.hostname and parts.port
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, dict(response.getheaders()), response.read())
    finally:
        connection.close()


# --------------------------------------------------------------------------------------------
# URL rewriting


def test_version_document_points_at_proxy(
    proxy: FaultProxy, upstreams: dict[str, Upstream]
) -> None:
    reply = call(proxy.url("identity"), "/v3")
    assert reply.status == 200
    assert reply.json()["version"]["links"][0]["href"] == proxy.url("identity") + "/v3/"
    assert upstreams["identity"].base.encode() not in reply.body
    assert int(reply.headers["Content-Length"]) == len(reply.body)
    assert proxy.rewrite_map == {up.base: proxy.url(label) for label, up in upstreams.items()}


def test_catalog_points_each_service_at_its_proxy_port(
    proxy: FaultProxy, upstreams: dict[str, Upstream]
) -> None:
    reply = call(proxy.url("identity"), "/v3/auth/tokens", "POST", b"{}")
    assert reply.status == 201
    urls = {
        service["type"]: service["endpoints"][0]["url"]
        for service in reply.json()["token"]["catalog"]
    }
    assert urls == {
        "identity": proxy.url("identity") + "/v3",
        "compute": proxy.url("compute") + "/v2.1",
        "unmapped": UNMAPPED,
    }
    assert proxy.url("identity") != proxy.url("compute")
    assert proxy.unproxied_endpoints == {UNMAPPED}  # that service would bypass the proxy


def test_location_headers_rewritten(proxy: FaultProxy, upstreams: dict[str, Upstream]) -> None:
    created = call(proxy.url("identity"), "/items", "POST", b'{"name": "web"}')
    assert created.status == 201
    location = created.headers["Location"]
    assert location.startswith(proxy.url("identity") + "/items/")
    assert created.json()["item"]["links"][0]["href"] == location
    redirect = call(proxy.url("identity"), "/redirect")
    assert redirect.status == 302
    assert redirect.headers["Location"] == proxy.url("identity") + "/v3"


def test_chunked_upstream_reframed_and_rewritten(
    proxy: FaultProxy, upstreams: dict[str, Upstream]
) -> None:
    reply = call(proxy.url("identity"), "/chunked")
    assert reply.status == 200
    assert "Transfer-Encoding" not in reply.headers
    assert int(reply.headers["Content-Length"]) == len(reply.body)
    hrefs = {link["href"] for link in reply.json()["links"]}
    assert hrefs == {proxy.url("identity") + "/v3"}


def test_binary_and_encoded_bodies_pass_untouched(
    proxy: FaultProxy, upstreams: dict[str, Upstream]
) -> None:
    base = upstreams["identity"].base
    blob = call(proxy.url("identity"), "/blob")
    assert blob.body == b"\x00" + base.encode() + b"\xff"
    packed = call(proxy.url("identity"), "/gzip", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(packed.body)) == {"href": base}


def test_request_bodies_rewritten_towards_upstream(
    proxy: FaultProxy, upstreams: dict[str, Upstream]
) -> None:
    body = json.dumps({"callback": proxy.url("compute") + "/v2.1/x"}).encode()
    json_type = {"Content-Type": "application/json", "Referer": proxy.url("compute") + "/"}
    reply = call(proxy.url("identity"), "/echo", "POST", body, json_type)
    assert reply.status == 200
    sent = upstreams["identity"].bodies()[-1]
    assert json.loads(sent) == {"callback": upstreams["compute"].base + "/v2.1/x"}
    seen_headers = upstreams["identity"].last_headers
    assert seen_headers["Host"] == urlsplit(upstreams["identity"].base).netloc
    assert seen_headers["Referer"] == upstreams["compute"].base + "/"


def test_rewrite_matches_whole_bases_only(
    proxy: FaultProxy, upstreams: dict[str, Upstream]
) -> None:
    base, mine = upstreams["identity"].base, proxy.url("identity")
    port = urlsplit(base).port
    assert proxy.rewrite(f"{base}/v3 {base}0/v3 {base}.example") == (
        f"{mine}/v3 {base}0/v3 {base}.example"
    )
    assert proxy.rewrite(f"http://localhost:{port}/v3") == f"{mine}/v3"
    escaped = json.dumps(base + "/v3").replace("/", "\\/")  # PHP-style JSON escaping
    assert proxy.rewrite(escaped) == json.dumps(mine + "/v3").replace("/", "\\/")


# --------------------------------------------------------------------------------------------
# Recording


def test_records_writes_and_counts(proxy: FaultProxy, upstreams: dict[str, Upstream]) -> None:
    call(proxy.url("identity"), "/v3")
    call(proxy.url("identity"), "/items", "POST", b'{"password": "s3cret"}')
    call(proxy.url("compute"), "/echo/servers?limit=2", "DELETE")
    call(proxy.url("compute"), "/echo/servers", "PUT", b"x" * 10)

    records = proxy.records
    assert [(r.label, r.method, r.path) for r in records] == [
        ("identity", "GET", "/v3"),
        ("identity", "POST", "/items"),
        ("compute", "DELETE", "/echo/servers?limit=2"),
        ("compute", "PUT", "/echo/servers"),
    ]
    assert [r.status for r in records] == [200, 201, 200, 200]
    assert all(r.fault is None and r.forwarded and r.duration >= 0 for r in records)
    assert records[1].request_bytes == len(b'{"password": "s3cret"}')
    assert records[3].request_bytes == 10
    assert all(r.request_body is None and r.response_body is None for r in records)
    assert "s3cret" not in repr(records)
    assert [r.method for r in proxy.writes()] == ["POST", "DELETE", "PUT"]
    assert [r.method for r in proxy.writes("compute")] == ["DELETE", "PUT"]
    assert proxy.count() == 4
    assert proxy.count("get") == 1
    assert proxy.count(label="compute") == 2
    assert proxy.count("PUT", "compute", path=r"^/echo/servers$") == 1
    assert proxy.tally() == {
        ("identity", "GET"): 1,
        ("identity", "POST"): 1,
        ("compute", "DELETE"): 1,
        ("compute", "PUT"): 1,
    }
    with pytest.raises(RuntimeError, match="record_bodies"):
        proxy.containing("s3cret")
    proxy.clear()
    assert proxy.records == ()


def test_record_bodies_finds_leaked_secrets(upstreams: dict[str, Upstream]) -> None:
    with FaultProxy({"identity": upstreams["identity"].base}, record_bodies=True) as proxy:
        call(proxy.url("identity"), "/items", "POST", b'{"name": "a", "password": "s3cret"}')
        call(proxy.url("identity"), "/items")  # the upstream echoes the secret back
        call(proxy.url("identity"), "/v3")
        leaks = proxy.containing("s3cret")
        assert [(r.method, r.path) for r in leaks] == [("POST", "/items"), ("GET", "/items")]
        assert leaks[0].request_body and b"s3cret" in leaks[0].request_body
        assert leaks[1].response_body and b"s3cret" in leaks[1].response_body


# --------------------------------------------------------------------------------------------
# Faults


def test_status_fault_answers_without_forwarding(
    proxy: FaultProxy, upstreams: dict[str, Upstream]
) -> None:
    handle = proxy.add_fault(
        Fault(Status(503, headers={"Retry-After": "0"}), methods="POST", path="^/items$", times=2)
    )
    first = call(proxy.url("identity"), "/items", "POST", b'{"name": "a"}')
    assert first.status == 503
    assert first.headers["Retry-After"] == "0"
    assert first.json()["error"]["code"] == 503
    assert call(proxy.url("identity"), "/items", "POST", b'{"name": "a"}').status == 503
    assert call(proxy.url("identity"), "/items", "POST", b'{"name": "a"}').status == 201
    assert handle.fired == 2
    assert not handle.active
    assert upstreams["identity"].count("POST", "/items") == 1
    assert [(r.status, r.fault, r.upstream_status) for r in proxy.records] == [
        (503, "Status", None),
        (503, "Status", None),
        (201, None, 201),
    ]


def test_status_fault_after_forwarding(proxy: FaultProxy, upstreams: dict[str, Upstream]) -> None:
    proxy.add_fault(Fault(Status(500, body="boom", forward=True), methods="POST", times=1))
    reply = call(proxy.url("identity"), "/items", "POST", b'{"name": "a"}')
    assert (reply.status, reply.body) == (500, b"boom")
    assert reply.headers["Content-Type"].startswith("text/plain")
    assert len(upstreams["identity"].items) == 1  # the cloud applied it anyway
    assert proxy.records[0].upstream_status == 201


def test_drop_after_forward_applies_change_but_client_sees_dropped_connection(
    proxy: FaultProxy, upstreams: dict[str, Upstream]
) -> None:
    handle = proxy.add_fault(
        Fault(DropAfterForward(), label="identity", methods="POST", path="^/items$", times=1)
    )
    url = proxy.url("identity") + "/items"
    with requests.Session() as session:
        with pytest.raises(requests.ConnectionError):
            session.post(url, json={"name": "web-1"}, timeout=10)
        assert len(upstreams["identity"].items) == 1  # created although the client got nothing
        listed = session.get(url, timeout=10).json()["items"]
        assert [item["name"] for item in listed] == ["web-1"]
        # a naive retry duplicates: exactly what the tool under test must avoid
        assert session.post(url, json={"name": "web-1"}, timeout=10).status_code == 201
    assert len(upstreams["identity"].items) == 2
    assert handle.fired == 1
    dropped = proxy.records[0]
    assert (dropped.status, dropped.fault, dropped.upstream_status) == (
        None,
        "DropAfterForward",
        201,
    )


def test_drop_before_forward_never_reaches_upstream(
    proxy: FaultProxy, upstreams: dict[str, Upstream]
) -> None:
    handle = proxy.add_fault(Fault(DropBeforeForward(), methods=["POST", "PUT"]))
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        call(proxy.url("identity"), "/items", "POST", b'{"name": "a"}')
    assert upstreams["identity"].count("POST") == 0
    assert call(proxy.url("identity"), "/items").status == 200  # GET is not matched
    assert handle.fired == 1
    assert proxy.records[0].status is None
    assert not proxy.records[0].forwarded


def test_delay_answers_late(proxy: FaultProxy, upstreams: dict[str, Upstream]) -> None:
    proxy.add_fault(Fault(Delay(0.3), path="^/v3$"))
    started = time.monotonic()
    reply = call(proxy.url("identity"), "/v3")
    assert reply.status == 200
    assert 0.25 <= time.monotonic() - started < 10
    assert upstreams["identity"].count("GET", "/v3") == 1
    assert proxy.records[0].fault == "Delay"
    assert proxy.records[0].duration >= 0.25


def test_reset_mid_response(proxy: FaultProxy, upstreams: dict[str, Upstream]) -> None:
    proxy.add_fault(Fault(ResetMidResponse(), path="^/download", times=1))
    with pytest.raises((http.client.IncompleteRead, ConnectionError)):
        call(proxy.url("identity"), "/download?size=200000")
    assert call(proxy.url("identity"), "/download?size=200000").body == _pattern(200000)
    record = proxy.records[0]
    assert (record.status, record.fault, record.upstream_status) == (None, "ResetMidResponse", 200)
    assert 0 < record.response_bytes < 200000


def test_every_kth_candidate(proxy: FaultProxy) -> None:
    handle = proxy.add_fault(Fault(Status(500), label="compute", path="^/echo", every=3))
    statuses = [call(proxy.url("compute"), f"/echo/{n}").status for n in range(9)]
    assert statuses == [200, 200, 500] * 3
    assert call(proxy.url("identity"), "/echo/x").status == 200  # other label: not a candidate
    assert (handle.seen, handle.fired) == (9, 3)


def test_seeded_probability_is_repeatable(upstreams: dict[str, Upstream]) -> None:
    def pattern() -> list[bool]:
        with FaultProxy({"identity": upstreams["identity"].base}) as proxy:
            proxy.add_fault(Fault(Status(503), probability=0.3, seed=42))
            return [call(proxy.url("identity"), "/echo").status == 503 for _ in range(40)]

    first, second = pattern(), pattern()
    rng = random.Random(42)
    assert first == second == [rng.random() < 0.3 for _ in range(40)]
    assert 0 < sum(first) < 40


def test_rules_apply_in_order_and_can_be_removed(proxy: FaultProxy) -> None:
    teapot = proxy.add_fault(Fault(Status(418), path="^/echo/a"))
    proxy.add_fault(Fault(Status(503), path="^/echo"))
    assert call(proxy.url("identity"), "/echo/a").status == 418
    assert call(proxy.url("identity"), "/echo/b").status == 503
    teapot.remove()
    assert call(proxy.url("identity"), "/echo/a").status == 503
    with proxy.add_fault(Fault(Status(409), methods="GET")):
        assert len(proxy.faults) == 2
    assert len(proxy.faults) == 1
    proxy.clear_faults()
    assert call(proxy.url("identity"), "/echo/a").status == 200
    with pytest.raises(KeyError):
        proxy.add_fault(Fault(Status(500), label="nope"))


# --------------------------------------------------------------------------------------------
# Robustness


def test_keep_alive_with_head_204_304(proxy: FaultProxy) -> None:
    parts = urlsplit(proxy.url("identity"))
    assert parts.hostname and parts.port
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.connect()
        sock = connection.sock
        seen = []
        for method, path in [
            ("HEAD", "/echo"),
            ("GET", "/nocontent"),
            ("GET", "/notmodified"),
            ("GET", "/v3"),
            ("POST", "/items"),
            ("GET", "/v3"),
        ]:
            body = b'{"name": "k"}' if method == "POST" else None
            connection.request(method, path, body=body)
            response = connection.getresponse()
            seen.append((response.status, response.read(), response.getheader("Content-Length")))
            assert connection.sock is sock  # still the same connection
    finally:
        connection.close()
    assert seen[0] == (200, b"", "1234")  # HEAD keeps the upstream's length, sends no body
    assert seen[1][:2] == (204, b"")
    assert seen[2][:2] == (304, b"")
    assert [status for status, _, _ in seen[3:]] == [200, 201, 200]
    assert len({record.connection for record in proxy.records}) == 1


def test_requests_session_reuses_connection(proxy: FaultProxy) -> None:
    with requests.Session() as session:
        for _ in range(10):
            assert session.get(proxy.url("compute") + "/echo", timeout=10).ok
    assert len({record.connection for record in proxy.records}) == 1


def test_many_parallel_clients(proxy: FaultProxy, upstreams: dict[str, Upstream]) -> None:
    proxy.add_fault(Fault(Status(503), label="compute", every=5))

    def client(worker: int) -> list[tuple[int, str]]:
        results = []
        with requests.Session() as session:
            for n in range(10):
                label = "compute" if n % 2 else "identity"
                response = session.post(
                    f"{proxy.url(label)}/echo/{worker}/{n}", data=b"w%d" % worker, timeout=10
                )
                mine = (
                    response.status_code == 503 or response.json()["path"] == f"/echo/{worker}/{n}"
                )
                results.append((response.status_code, label if mine else "crossed"))
        return results

    with ThreadPoolExecutor(max_workers=24) as pool:
        outcomes = [item for batch in pool.map(client, range(24)) for item in batch]
    assert len(outcomes) == 240
    assert all(label != "crossed" for _, label in outcomes)
    assert sum(1 for status, _ in outcomes if status == 503) == 120 // 5
    assert proxy.count() == 240
    assert proxy.count("POST", "compute") == 120
    assert upstreams["identity"].count("POST") == 120
    assert upstreams["compute"].count("POST") == 120 - 24


def test_five_mib_bodies_round_trip(proxy: FaultProxy) -> None:
    payload = random.Random(7).randbytes(5 * MIB)
    digest = hashlib.sha256(payload).hexdigest()
    url = proxy.url("identity") + "/upload"
    with requests.Session() as session:
        sized = session.put(url, data=payload, timeout=30).json()
        chunked = session.put(
            url, data=iter(payload[i : i + MIB] for i in range(0, len(payload), MIB)), timeout=30
        ).json()
        download = session.get(proxy.url("identity") + f"/download?size={5 * MIB}", timeout=30)
    assert sized == chunked == {"length": 5 * MIB, "sha256": digest}
    assert download.content == _pattern(5 * MIB)
    assert [r.request_bytes for r in proxy.records[:2]] == [5 * MIB, 5 * MIB]
    assert proxy.records[2].response_bytes == 5 * MIB


def test_oversized_request_refused(upstreams: dict[str, Upstream]) -> None:
    with FaultProxy({"identity": upstreams["identity"].base}, max_body=1000) as proxy:
        reply = call(proxy.url("identity"), "/upload", "PUT", b"x" * 5000)
    assert reply.status == 413
    assert upstreams["identity"].count("PUT") == 0


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_upstream_down_is_502() -> None:
    with FaultProxy({"dead": f"http://127.0.0.1:{_closed_port()}"}) as proxy:
        reply = call(proxy.url("dead"), "/v3", "POST", b"{}")
        assert reply.status == 502
        assert reply.json()["error"]["code"] == 502
        record = proxy.records[0]
        assert record.status == 502 and not record.forwarded
        assert record.error and "ConnectionRefusedError" in record.error


def test_https_upstream(upstreams: dict[str, Upstream], tmp_path: Path) -> None:
    ca = make_authority()
    plain = urlsplit(upstreams["identity"].base)
    assert plain.hostname and plain.port
    upstream = (plain.hostname, plain.port)
    with tls_endpoint(ca.issue("localhost"), tmp_path, upstream=upstream) as port:
        context = ssl.create_default_context(cafile=str(ca.write(tmp_path / "ca.pem")))
        secure = {"identity": f"https://localhost:{port}"}
        with FaultProxy(secure, upstream_ssl_context=context) as proxy:
            reply = call(proxy.url("identity"), "/echo")
            assert reply.status == 200
            assert reply.json()["headers"]["Host"] == f"localhost:{port}"
        with FaultProxy(secure) as untrusting:  # default context: the test CA is unknown
            failed = call(untrusting.url("identity"), "/echo")
            assert failed.status == 502
            assert "SSLCertVerificationError" in failed.json()["error"]["message"]


# --------------------------------------------------------------------------------------------
# Wiring and lifecycle


def test_clouds_entry_points_auth_url_at_proxy(
    proxy: FaultProxy, upstreams: dict[str, Upstream]
) -> None:
    auth = {
        "auth_url": upstreams["identity"].base + "/v3",
        "username": "admin",
        "password": "s3cret",
        "project_name": "admin",
        "user_domain_name": "Default",
        "project_domain_name": "Default",
    }
    base: dict[str, Any] = {
        "auth": auth,
        "region_name": "RegionOne",
        "identity_api_version": 3,
        "compute_endpoint_override": upstreams["compute"].base + "/v2.1",
    }
    entry = clouds_entry(proxy, base)
    assert entry["auth"] == {**auth, "auth_url": proxy.url("identity") + "/v3"}
    assert entry["compute_endpoint_override"] == proxy.url("compute") + "/v2.1"
    assert entry["region_name"] == "RegionOne"
    assert entry["identity_api_version"] == 3
    assert auth["auth_url"] == upstreams["identity"].base + "/v3"  # the base entry is untouched
    with pytest.raises(ValueError, match="not behind the proxy"):
        clouds_entry(proxy, {"auth": {"auth_url": "http://192.0.2.1:5000/v3"}})


def test_openstacksdk_stays_behind_proxy(proxy: FaultProxy, upstreams: dict[str, Upstream]) -> None:
    entry = clouds_entry(
        proxy,
        {
            "auth": {
                "auth_url": upstreams["identity"].base + "/v3",
                "username": "admin",
                "password": "s3cret",
                "project_name": "admin",
                "user_domain_name": "Default",
                "project_domain_name": "Default",
            },
            "region_name": "RegionOne",
            "identity_api_version": 3,
        },
    )
    conn = openstack.connect(load_yaml_config=False, load_envvars=False, **entry)
    try:
        endpoint = conn.session.get_endpoint(service_type="compute", interface="public")
        response = conn.session.get(
            "/echo/servers",
            endpoint_filter={"service_type": "compute", "interface": "public"},
            raise_exc=False,
        )
    finally:
        conn.close()
    assert endpoint == proxy.url("compute") + "/v2.1"
    assert response.status_code == 200
    assert proxy.count("POST", "identity", path="/v3/auth/tokens") == 1
    assert proxy.count(label="compute") == 1
    assert upstreams["compute"].count("GET") == 1  # reached only through the proxy


def test_lifecycle_and_validation(upstreams: dict[str, Upstream]) -> None:
    proxy = FaultProxy({"identity": upstreams["identity"].base})
    with pytest.raises(RuntimeError, match="not started"):
        proxy.url("identity")
    proxy.start()
    port = proxy.port("identity")
    with pytest.raises(RuntimeError):
        proxy.start()
    with pytest.raises(KeyError):
        proxy.url("compute")
    proxy.stop()
    proxy.stop()
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass
    with pytest.raises(ValueError, match="at least one"):
        FaultProxy({})
    with pytest.raises(ValueError, match="not an http"):
        FaultProxy({"x": "ftp://example"})
    with pytest.raises(ValueError, match="share the base"):
        FaultProxy({"a": "http://localhost:5000/", "b": "http://127.0.0.1:5000"})
    for bad in ({"every": 0}, {"times": -1}, {"probability": 1.5}):
        with pytest.raises(ValueError):
            Fault(Status(), **bad)


def test_stop_cuts_idle_keep_alive_connections_and_delays(upstreams: dict[str, Upstream]) -> None:
    proxy = FaultProxy({"identity": upstreams["identity"].base}).start()
    idle = socket.create_connection(("127.0.0.1", proxy.port("identity")), timeout=10)
    proxy.add_fault(Fault(Delay(60)))
    outcome: list[object] = []

    def slow() -> None:
        try:
            outcome.append(call(proxy.url("identity"), "/v3").status)
        except (OSError, http.client.HTTPException) as error:
            outcome.append(error)

    thread = threading.Thread(target=slow)
    thread.start()
    deadline = time.monotonic() + 10
    while upstreams["identity"].count("GET", "/v3") == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    proxy.stop()
    thread.join(timeout=10)
    assert time.monotonic() - started < 10
    assert outcome  # the delayed request ended (answered or cut), it did not wait 60 s
    assert idle.recv(1) == b""  # the idle keep-alive connection was closed
    idle.close()
