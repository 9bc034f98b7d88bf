"""The one place where anything raised while serving HTTP becomes a response, and where every
answer gets the gateway's security headers."""

from werkzeug.routing import PathConverter, Rule

from oms_common.listener import HttpEntrypoint, OmsWebServer

# every answer of the gateway: pages, redirects, errors, static files, API JSON, CSV/XML downloads
SECURITY_HEADERS = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}
# pages set their own policy (ui.page); anything else never needs to load or frame anything
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'"


def secure(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    if "Content-Security-Policy" not in response.headers:
        response.headers["Content-Security-Policy"] = DEFAULT_CSP
    # only the UI's static files say how long they may be kept; everything else may be personal
    if "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    return response


class _AnyCharacterPath(PathConverter):
    """Werkzeug's ``path`` converter stops at a line break (``.`` without DOTALL), which made
    nameko answer an HTML 404 for ``/api/v1/orders/%0A/ship``; the router answers instead."""

    regex = "[^/](?s:.)*?"


class _ApiRule(Rule):
    def get_converter(self, variable_name, converter_name, args, kwargs):
        if converter_name == "path":
            return _AnyCharacterPath(self.map, *args, **kwargs)
        return super().get_converter(variable_name, converter_name, args, kwargs)


class GatewayWebServer(OmsWebServer):
    def finish_response(self, request, response):
        return secure(response)


class ApiEntrypoint(HttpEntrypoint):
    server = GatewayWebServer()

    def get_url_rule(self):
        return _ApiRule(self.url, methods=self.method.split(","))


api = ApiEntrypoint.decorator
