"""What a route handler gets: the request, who asks, and deadline-bound service calls."""

import base64

from oms_common.problems import BadRequest
from oms_common.settings import setting

from .router import parse_json_body, query_dict


class RequestContext:
    def __init__(self, request, principal, calls, route, settings=None, source=None):
        self.request = request
        self.source = source  # the gateway's own database (users, saved views)
        self.settings = settings or {}
        self.principal = principal
        self.call = calls
        self.route = route
        self._body = None

    def body(self):
        if self._body is None:
            self._body = parse_json_body(self.request)
        return self._body

    def query(self, repeatable=(), drop=()):
        return query_dict(self.request, repeatable, drop)

    def uploaded_document(self, limit_setting, send_what):
        """The request body as a file sent as is (an XML import), base64 for the RPC that takes it.
        Larger than the ``limit_setting`` bytes, or empty (``send_what`` says what to send): 400."""
        limit = setting(self.settings, limit_setting, "gateway")
        too_large = BadRequest(f"The document is larger than {limit} bytes.", {"document": ["Too large."]})
        if (self.request.content_length or 0) > limit:
            raise too_large
        document = self.request.get_data(cache=False)
        if len(document) > limit:
            raise too_large
        if not document.strip():
            raise BadRequest(send_what, {"document": ["Empty."]})
        return base64.b64encode(document).decode("ascii")

    @property
    def actor(self):
        """Who did it and from where, for every audit entry."""
        # the listener put a trusted proxy's X-Forwarded-For here and dropped anyone else's
        address = self.request.remote_addr or "unknown"
        return {
            "name": self.principal.username,
            "kind": "user",
            "role": self.principal.role,
            "origin": f"api {address}"[:200],
        }
