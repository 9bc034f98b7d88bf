"""The HTTP listener every OMS process uses: ``@http`` entrypoints and the metrics endpoint.

It replaces nameko's ``WebServer`` (same ``WEB_SERVER_ADDRESS`` setting) with one that

- binds exclusively: no ``SO_REUSEPORT`` (eventlet's default), so a second suite on the same
  address fails to start with :class:`AddressInUse` naming it instead of sharing the port;
- reads a request's head within ``HTTP_HEAD_SECONDS`` and its whole body within
  ``HTTP_BODY_SECONDS``, in the connection's green thread *before* a worker is taken: a slow
  client costs a socket, never one of the ``max_workers`` workers. Too slow → 408 (body) or the
  connection is closed (head); at most ``HTTP_MAX_CONNECTIONS`` connections are served at once
  (the next ones wait in the kernel's backlog); an idle keep-alive connection is closed after
  ``HTTP_IDLE_SECONDS``;
- refuses at the edge what no service can store: NUL in the path (404), NUL in a query
  parameter or form field and NUL or a lone surrogate in a JSON string (422 naming the field),
  JSON nested deeper than :data:`MAX_JSON_DEPTH` (400); bodies beyond the entrypoint's
  ``max_body_bytes`` (413);
- trusts ``X-Forwarded-For`` / ``X-Forwarded-Proto`` only from ``TRUSTED_PROXIES`` (IPs or
  CIDRs, comma separated; none by default): from anyone else the headers are dropped, so
  ``request.remote_addr`` and ``request.is_secure`` are always the ones to use;
- answers every failure as problem JSON; an unexpected exception is logged, never shown.

Each setting is read from the service's config and else from ``OMS_<SETTING>`` in the
environment (see README, "HTTP listeners").
"""

import errno
import json
import logging
import socket
from collections.abc import Iterable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

import eventlet
from eventlet import wsgi
from eventlet.semaphore import Semaphore
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import HttpOnlyProtocol, WebServer
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from .edge_checks import inspect_body, inspect_target
from .problems import NotFound, Problem, ValidationFailed
from .proxies import apply_proxy_trust, parse_networks
from .request_body import PayloadTooLarge, read_body
from .settings import setting
from .web import PROBLEM_TYPE, json_response, problem_response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

# the listener's settings (settings.toml): a service's config.yml may set them, else OMS_<key>
LISTENER_KEYS = (
    "HTTP_HEAD_SECONDS",
    "HTTP_BODY_SECONDS",
    "HTTP_IDLE_SECONDS",
    "HTTP_MAX_CONNECTIONS",
    "HTTP_MAX_BODY_BYTES",
    "TRUSTED_PROXIES",
)


class AddressInUse(RuntimeError):
    """Another process (perhaps another OMS suite) already listens on this address."""


def listener_settings(config: Mapping[str, Any] | None, service: str) -> dict[str, Any]:
    return {key: setting(config, key, service) for key in LISTENER_KEYS}


def listen_exclusively(host: str | None, port: int, backlog: int = 128) -> Any:  # eventlet's green socket
    """A listening socket no other process can share (SO_REUSEADDR only, for quick restarts)."""
    try:
        sock = eventlet.listen((host or "0.0.0.0", port), backlog=backlog, reuse_addr=True, reuse_port=False)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise AddressInUse(
                f"{host or '0.0.0.0'}:{port} is already in use (another OMS suite or program "
                "listens there); stop it or choose another address."
            ) from None
        raise
    # eventlet writes a response's head and a large body separately; with Nagle's algorithm on, the
    # body then waits for the client's delayed ACK (~40 ms). Accepted sockets inherit this.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.settimeout(None)  # work around https://github.com/celery/kombu/issues/838
    return sock


def unexpected_response(exc: BaseException) -> Response:
    # details of unexpected failures stay in the log (with the correlation id), not the answer
    log.error("unexpected error while serving a request: %r", exc, exc_info=exc)
    body = {
        "type": "https://oms.example/problems/internal-error",
        "title": "Internal error",
        "status": 500,
        "detail": "The request failed unexpectedly; it has been logged.",
    }
    return Response(json.dumps(body), status=500, mimetype=PROBLEM_TYPE)


class _HttpError(Problem):
    def __init__(self, exc: HTTPException) -> None:
        super().__init__(exc.description or exc.name)
        self.status, self.title = exc.code or 400, exc.name
        self.allowed: list[str] = list(getattr(exc, "valid_methods", None) or ())


def _http_error_problem(exc: HTTPException) -> Problem:
    if exc.code == 404:
        return NotFound("No such resource.")
    return _HttpError(exc)


# ---------------------------------------------------------------- the server


class _Protocol(HttpOnlyProtocol):
    """Idle wait, then the whole head under one deadline; proxies trusted only when configured."""

    _head_timer: eventlet.Timeout | None = None

    def _read_request_line(self) -> str:
        if self.rfile.closed:
            self.close_connection = 1
            return ""
        try:
            self.connection.settimeout(self.server.idle_seconds)
            if not self.rfile.peek(1):
                self.close_connection = 1
                return ""
        except OSError:  # idle too long, reset, or closed
            self.close_connection = 1
            return ""
        self._head_timer = eventlet.Timeout(self.server.head_seconds, socket.timeout("the request head took too long"))
        return super()._read_request_line()

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def parse_request(self) -> bool:
        try:
            return super().parse_request()
        finally:
            self._stop_head_timer()

    def handle_one_request(self) -> None:
        try:
            return super().handle_one_request()
        finally:
            self._stop_head_timer()

    def get_environ(self) -> "WSGIEnvironment":
        environ = super().get_environ()
        apply_proxy_trust(environ, self.server.trusted_proxies)
        environ["oms.connection"] = self
        return environ


class DeadlineServer(wsgi.Server):
    def __init__(self, sock: Any, app: "WSGIApplication", settings: Mapping[str, Any]) -> None:
        super().__init__(
            sock,
            sock.getsockname(),
            app,
            protocol=_Protocol,
            debug=False,
            log=logging.getLogger("oms_common.listener.wsgi"),
            log_x_forwarded_for=False,
            socket_timeout=settings["HTTP_HEAD_SECONDS"],
            keepalive=True,
        )
        self.head_seconds = settings["HTTP_HEAD_SECONDS"]
        self.idle_seconds = settings["HTTP_IDLE_SECONDS"]
        self.trusted_proxies = parse_networks(settings["TRUSTED_PROXIES"])

    def process_request(self, conn_state: list[Any]) -> None:
        try:
            super().process_request(conn_state)
        except OSError as exc:
            # a client disconnecting very early (eventlet#353); nothing to answer
            if "raw readinto() returned invalid length" not in str(exc):
                raise


class OmsWebServer(WebServer):
    """nameko's WebServer with the properties of the module doc."""

    _starting: bool  # nameko's WebServer sets it

    def __init__(self) -> None:
        super().__init__()
        self.settings: dict[str, Any] = listener_settings(None, "gateway")
        self._slots: Semaphore = None  # made by start, before run

    def setup(self) -> None:
        self.settings = listener_settings(self.container.config, self.container.service_name)
        super().setup()

    def start(self) -> None:
        if not self._starting:
            self._starting = True
            address = self.bind_addr
            self._sock = listen_exclusively(address.address, address.port)
            self._slots = Semaphore(self.settings["HTTP_MAX_CONNECTIONS"])
            self._serv = DeadlineServer(self._sock, self.get_wsgi_app(), self.settings)
            self._gt = self.container.spawn_managed_thread(self.run)

    def run(self) -> None:
        while self._is_accepting:
            self._slots.acquire()  # full: new connections wait in the kernel's backlog
            try:
                sock, addr = self._sock.accept()
            except OSError:
                self._slots.release()
                if not self._is_accepting:
                    return
                raise
            sock.settimeout(self._serv.socket_timeout)
            self.container.spawn_managed_thread(partial(self._serve_connection, sock, addr))

    def _serve_connection(self, sock: Any, address: tuple[str, int]) -> None:
        try:
            self._serv.process_request([address, sock, wsgi.STATE_IDLE])
        finally:
            self._slots.release()
            try:
                sock.close()
            except OSError:
                pass

    def get_wsgi_app(self) -> "ListenerApp":
        return ListenerApp(self)

    def finish_response(self, request: Request, response: Response) -> Response:
        """A hook for listeners that add headers to every answer (the gateway's security headers)."""
        return response


class ListenerApp:
    """Routes to the entrypoints; anything refused before an entrypoint runs is problem JSON too."""

    def __init__(self, server: OmsWebServer) -> None:
        self.server = server
        self.url_map = server.make_url_map()

    def __call__(self, environ: "WSGIEnvironment", start_response: "StartResponse") -> Iterable[bytes]:
        request = Request(environ, shallow=True)
        try:
            inspect_target(request)
            adapter = self.url_map.bind_to_environ(environ)
            provider, values = adapter.match()
            request.path_values = values  # type: ignore[attr-defined]  # what nameko's handler reads
            response = provider.handle_request(request)
        except Problem as problem:
            response = problem_response(problem)
        except HTTPException as exc:
            response = problem_response(_http_error_problem(exc))
        except Exception as exc:  # noqa: BLE001 - never an exception text in an answer
            response = unexpected_response(exc)
        response = self.server.finish_response(request, response)
        return response(environ, start_response)


class HttpEntrypoint(HttpRequestHandler):
    """``@http`` on :class:`OmsWebServer`: body read and inspected before a worker is taken.

    ``max_body_bytes`` bounds this entrypoint's body (the listener's ``HTTP_MAX_BODY_BYTES``
    otherwise); ``body_problem`` is the problem class for a body's unstorable text and
    ``too_large_problem`` the one for a body beyond the bound (a PSP is told 400 for both).
    """

    server = OmsWebServer()

    def __init__(
        self,
        method: str,
        url: str,
        max_body_bytes: int | None = None,
        body_problem: type[Problem] = ValidationFailed,
        too_large_problem: type[Problem] = PayloadTooLarge,
        **kwargs: Any,
    ) -> None:
        self.max_body_bytes = max_body_bytes
        self.body_problem = body_problem
        self.too_large_problem = too_large_problem
        super().__init__(method, url, **kwargs)

    def handle_request(self, request: Request) -> Response:
        request.shallow = False
        settings = self.server.settings
        try:
            read_body(
                request,
                self.max_body_bytes or settings["HTTP_MAX_BODY_BYTES"],
                settings["HTTP_BODY_SECONDS"],
                self.too_large_problem,
            )
            inspect_body(request, self.body_problem)
        except Problem as problem:
            return problem_response(problem)
        return super().handle_request(request)

    def response_from_exception(self, exc: BaseException) -> Response:
        if isinstance(exc, Problem):
            return problem_response(exc)
        return unexpected_response(exc)

    def response_from_result(self, result: Any) -> Response:
        if isinstance(result, Response):
            return result
        status, payload = result if isinstance(result, tuple) else (200, result)
        if isinstance(payload, str):
            return Response(payload, status=status)
        return json_response(payload, status)


http = HttpEntrypoint.decorator


__all__ = [
    "AddressInUse",
    "HttpEntrypoint",
    "OmsWebServer",
    "http",
    "listen_exclusively",
    "read_body",
    "PayloadTooLarge",
]
