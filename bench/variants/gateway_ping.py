"""The gateway plus a trivial HTTP → RPC route — a bench-only variant, the floor of the
architecture that bench/list_search.py measures the order list against.

    nameko run gateway_ping:GatewayService   (with bench/variants on the Python path)

``GET /bench/ping`` does what every API request does around its work — the same listener and
worker pool, the bearer token checked, one RPC to the orders service (its ``ping``, which asks
the database ``SELECT 1``), one JSON answer — and nothing else. The production gateway has no
such route: it would let anyone load the services without a permission.
"""

from gateway.http import api
from gateway.service import GatewayService as _GatewayService
from oms_common.problems import Problem
from oms_common.web import json_response, problem_response


class GatewayService(_GatewayService):
    @api("GET", "/bench/ping")
    def bench_ping(self, request):
        try:
            self.auth.verify(request.headers.get("Authorization")).require("read")
            answer = self._calls()("orders", "ping")
        except Problem as problem:
            return problem_response(problem)
        return json_response(answer)
