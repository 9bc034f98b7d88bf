"""The one place where anything raised while serving HTTP becomes a response."""
import json
import logging
import socket

from nameko.exceptions import RemoteError
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer
from werkzeug.routing import PathConverter, Rule
from werkzeug.wrappers import Response

from oms_common.problems import Problem
from oms_common.web import PROBLEM_TYPE, json_response, problem_response

log = logging.getLogger(__name__)

def unexpected_response(exc):
    # Details of unexpected failures stay in the log (with the correlation id), not the answer.
    log.error("unexpected error while serving a request: %r", exc, exc_info=exc)
    body = {"type": "https://oms.example/problems/internal-error", "title": "Internal error", "status": 500,
            "detail": "The request failed unexpectedly; it has been logged."}
    return Response(json.dumps(body), status=500, mimetype=PROBLEM_TYPE)


class _AnyCharacterPath(PathConverter):
    """Werkzeug's ``path`` converter stops at a line break (``.`` without DOTALL), which made
    nameko answer an HTML 404 for ``/api/v1/orders/%0A/ship``; the router answers instead."""

    regex = "[^/](?s:.)*?"


class _ApiRule(Rule):
    def get_converter(self, variable_name, converter_name, args, kwargs):
        if converter_name == "path":
            return _AnyCharacterPath(self.map, *args, **kwargs)
        return super().get_converter(variable_name, converter_name, args, kwargs)


class ApiWebServer(WebServer):
    def get_wsgi_server(self, sock, wsgi_app, **kwargs):
        # eventlet writes a response's head and a large body separately; with Nagle's algorithm on,
        # the body then waits for the client's delayed ACK (~40 ms). Accepted sockets inherit this.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return super().get_wsgi_server(sock, wsgi_app, **kwargs)


class ApiEntrypoint(HttpRequestHandler):
    server = ApiWebServer()

    def get_url_rule(self):
        return _ApiRule(self.url, methods=self.method.split(","))

    def response_from_exception(self, exc):
        if isinstance(exc, Problem):
            return problem_response(exc)
        if isinstance(exc, RemoteError):
            return unexpected_response(exc)
        return unexpected_response(exc)

    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        status, payload = result if isinstance(result, tuple) else (200, result)
        return json_response(payload, status)


api = ApiEntrypoint.decorator
