"""The payments service plus an unsigned no-op webhook — a bench-only variant, the baseline of
bench/webhooks_bench.py: the same listener and worker pool, without verifying or storing.

    nameko run payments_noop:PaymentsService   (with bench/variants on the Python path)

The production listener has no such route: anyone could use it to load the service.
"""

from oms_common.listener import http
from oms_common.web import json_response
from payments.service import WEBHOOK
from payments.service import PaymentsService as _PaymentsService


class PaymentsService(_PaymentsService):
    @http("POST", "/webhooks/noop", **WEBHOOK)
    def noop_webhook(self, request):
        """Answers without verifying or storing."""
        request.get_data(cache=False)
        return json_response({"received": False})
