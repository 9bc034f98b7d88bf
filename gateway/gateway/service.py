"""The gateway: the HTTP face of OMS. Holds no business data; composes what the services return."""

import logging
import time

from nameko.dependency_providers import Config
from nameko.rpc import RpcProxy
from werkzeug.wrappers import Request

from oms_common.health import HealthMixin
from oms_common.logs import CorrelationContext
from oms_common.metrics import Metrics
from oms_common.problems import Problem
from oms_common.providers import Database, Settings
from oms_common.settings import setting
from oms_common.web import json_response, problem_response

from . import routes  # noqa: F401 - registers every route on the router
from .auth import Authenticator
from .context import RequestContext
from .health import health_report
from .http import api
from .idempotency import dispatch
from .models import infrastructure
from .openapi import openapi_document
from .router import router
from .rpc import ServiceCalls
from .ui import app as ui

log = logging.getLogger(__name__)
SERVICES = ("orders", "payments", "notifications", "exports", "documents")
ALL_METHODS = "GET,POST,PUT,DELETE,PATCH"


class RequestCorrelation(CorrelationContext):
    """Takes the caller's X-Request-ID (if sane) as the correlation id for everything that follows."""

    def incoming_id(self, worker_ctx):
        request = worker_ctx.args[0] if worker_ctx.args else None
        if isinstance(request, Request):
            given = request.headers.get("X-Request-ID", "")
            if given and len(given) <= 64 and given.replace("-", "").isalnum():
                return given
        return None


class GatewayService(HealthMixin):
    name = "gateway"

    db = Database(infrastructure)
    metrics = Metrics()
    auth = Authenticator()
    config = Config()  # handed to routes and pages, which read it through oms_common.settings.setting
    settings = Settings()  # every setting checked at start
    correlation = RequestCorrelation()
    orders = RpcProxy("orders", expiration=30)
    payments = RpcProxy("payments", expiration=30)
    notifications = RpcProxy("notifications", expiration=30)
    exports = RpcProxy("exports", expiration=30)
    documents = RpcProxy("documents", expiration=30)

    def _calls(self):
        timeout = setting(self.config, "RPC_TIMEOUT_SECONDS", "gateway")
        secondary = setting(self.config, "DETAIL_PART_TIMEOUT_SECONDS", "gateway")
        proxies = {name: getattr(self, name) for name in SERVICES}
        return ServiceCalls(proxies, timeout, secondary)

    @api("GET", "/health")
    def health(self, request):
        status, report = health_report(self._calls(), SERVICES, self.db)
        return json_response(report, status)

    @api("GET,POST", "/admin")
    def admin_home(self, request):
        return ui.handle(request, self._calls(), self.db, self.config)

    @api("GET,POST", "/admin/<path:path>")
    def admin(self, request, path):
        return ui.handle(request, self._calls(), self.db, self.config)

    @api("GET", "/api/openapi.json")
    def openapi(self, request):
        return json_response(openapi_document(router))

    @api(ALL_METHODS, "/api/<path:path>")
    def api(self, request, path):
        started = time.monotonic()
        try:
            route, values = router.match(request.method, "/api/" + path)
            principal = self.auth.verify(request.headers.get("Authorization"))
            principal.require(route.permission)
            context = RequestContext(request, principal, self._calls(), route, self.config, self.db)
            response = dispatch(self.db, context, route, values)
        except Problem as problem:
            response = problem_response(problem)
        if not hasattr(response, "status_code"):
            status, payload = response if isinstance(response, tuple) else (200, response)
            response = json_response(payload, status)
        response.headers["X-Request-ID"] = self.correlation
        log.info(
            "%s %s -> %s in %.1f ms",
            request.method,
            request.path,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return response
