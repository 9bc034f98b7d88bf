"""The shared HTTP listener: exclusive binding, proxies trusted only when configured, edge checks."""

import errno
import socket

import pytest
import requests
from nameko.containers import ServiceContainer

from oms_common.edge_checks import inspect_json, json_depth
from oms_common.listener import AddressInUse, http
from oms_common.problems import BadRequest, ValidationFailed
from oms_common.proxies import apply_proxy_trust, parse_networks
from oms_common.standalone_listener import StandaloneListener
from tests.support.suite import free_port


class EchoService:
    name = "echo"

    @http("POST", "/echo", max_body_bytes=1000)
    def echo(self, request):
        return {
            "length": len(request.get_data()),
            "peer": request.remote_addr,
            "secure": request.is_secure,
            "forwarded": request.headers.get("X-Forwarded-For"),
        }


def _container(port, **config):
    container = ServiceContainer(
        EchoService, {"AMQP_URI": "memory://", "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}", **config}
    )
    return container


@pytest.fixture
def echo():
    port = free_port()
    container = _container(port)
    container.start()
    yield port
    container.kill()


def test_a_second_container_on_a_taken_port_fails_naming_the_address(echo):
    second = _container(echo)
    with pytest.raises(AddressInUse, match=f"127.0.0.1:{echo} is already in use"):
        second.start()
    second.kill()
    assert requests.post(f"http://127.0.0.1:{echo}/echo", data=b"abc", timeout=5).json()["length"] == 3


def test_the_listener_does_not_set_so_reuseport(echo):
    probe = socket.socket()
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    with pytest.raises(OSError) as refused:
        probe.bind(("127.0.0.1", echo))
    probe.close()
    assert refused.value.errno == errno.EADDRINUSE


def test_a_standalone_listener_binds_exclusively_too():
    port = free_port()
    listener = StandaloneListener("127.0.0.1", port, lambda environ, start: (start("200 OK", []), [b"ok"])[1])
    try:
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=5).text == "ok"
        with pytest.raises(AddressInUse, match=f"127.0.0.1:{port}"):
            StandaloneListener("127.0.0.1", port, None)
    finally:
        listener.close()


def test_a_body_beyond_the_entrypoints_bound_is_413_problem(echo):
    answer = requests.post(f"http://127.0.0.1:{echo}/echo", data=b"x" * 2000, timeout=5)
    assert answer.status_code == 413 and answer.headers["Content-Type"].startswith("application/problem+json")
    assert "body" in answer.json()["errors"]


def test_forwarded_headers_from_an_untrusted_peer_are_dropped(echo):
    answer = requests.post(
        f"http://127.0.0.1:{echo}/echo",
        data=b"",
        timeout=5,
        headers={"X-Forwarded-For": "203.0.113.5", "X-Forwarded-Proto": "https"},
    ).json()
    assert answer == {"length": 0, "peer": "127.0.0.1", "secure": False, "forwarded": None}


def test_forwarded_headers_from_a_trusted_proxy_name_the_client():
    port = free_port()
    container = _container(port, TRUSTED_PROXIES="10.0.0.0/8, 127.0.0.1")
    container.start()
    try:
        answer = requests.post(
            f"http://127.0.0.1:{port}/echo",
            data=b"",
            timeout=5,
            headers={"X-Forwarded-For": "198.51.100.7, 203.0.113.5, 10.1.2.3", "X-Forwarded-Proto": "https"},
        ).json()
    finally:
        container.kill()
    # the right-most hop no trusted proxy added; what the client itself wrote further left is not believed
    assert answer["peer"] == "203.0.113.5" and answer["secure"] is True


def test_proxy_trust_rules():
    networks = parse_networks("192.0.2.1,10.0.0.0/8")
    environ = {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "10.9.9.9", "HTTP_X_FORWARDED_PROTO": "https"}
    apply_proxy_trust(environ, networks)
    assert environ["REMOTE_ADDR"] == "10.9.9.9"  # every hop trusted: the left-most is the client
    environ = {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "not-an-ip"}
    apply_proxy_trust(environ, networks)
    assert environ["REMOTE_ADDR"] == "192.0.2.1"
    environ = {
        "REMOTE_ADDR": "192.0.2.99",
        "HTTP_X_FORWARDED_FOR": "1.2.3.4",
        "HTTP_X_FORWARDED_PROTO": "https",
        "wsgi.url_scheme": "http",
    }
    apply_proxy_trust(environ, networks)
    assert environ == {"REMOTE_ADDR": "192.0.2.99", "wsgi.url_scheme": "http"}
    environ = {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}
    apply_proxy_trust(environ, ())  # nothing configured: nobody is trusted
    assert environ == {"REMOTE_ADDR": "192.0.2.1"}


def test_json_depth_skips_strings_and_counts_nesting():
    assert json_depth(b"[" * 65 + b"]" * 65) == 65
    assert json_depth(b'{"a": "' + b"[" * 500 + b'"}') == 1  # the brackets are text
    assert json_depth(b"[" * 10 + b'"\\"[[["' + b"]" * 10) == 0  # few openers outside strings: not counted
    with pytest.raises(BadRequest):
        inspect_json(b"[" * 200_000)
    inspect_json(b"[" * 64 + b"]" * 64)


@pytest.mark.parametrize(
    "raw,field",
    [
        (b'{"a": {"b": ["ok", "\\ud800"]}}', "a.b.1"),
        (b'{"a": "x\\u0000"}', "a"),
        (b'{"\\u0000": 1}', "body"),
        (b'["\\udfff"]', "0"),
    ],
)
def test_unstorable_json_text_is_named(raw, field):
    with pytest.raises(ValidationFailed) as refused:
        inspect_json(raw)
    assert field in refused.value.errors


def test_storable_escapes_pass():
    inspect_json(b'{"a": "\\ud83d\\ude00 \\u00e9 \\\\u0000"}')
    with pytest.raises(BadRequest):
        inspect_json(b'{"a": "\\u0000"}', BadRequest)
