"""What a route handler gets: the request, who asks, and deadline-bound service calls."""

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
