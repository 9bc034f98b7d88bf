"""The exports service: entrypoints and dependencies only; the work is in the modules they call.

- the export copy, fed by events: handlers
- downloads, streamed over this service's own HTTP listener: web, streams, the format versions in
  formats (serialize: version 1, serialize_v2: version 2 with VAT, writers: what both share)
- scheduled jobs and their runs: jobs (timer here, one run per due time across replicas)
- import of orders from export XML: imports (orders are created by the orders service)

An entrypoint that only hands its arguments to a use case is one line (``use_case_rpc``).
"""

import base64
import binascii

from nameko.rpc import rpc

from oms_common.event_handlers import handles_each
from oms_common.events import reliable_event_handler
from oms_common.listener import http
from oms_common.problems import EXPECTED, BadRequest
from oms_common.providers import Database
from oms_common.rpc import TimedRpcProxy
from oms_common.service_base import OmsService
from oms_common.timers import configured_timer
from oms_common.use_case_rpc import use_case_rpc
from oms_contracts.events import ORDER_EVENTS

from . import formats, handlers, imports, job_runs, jobs, web
from .dependencies import Settings
from .models import infrastructure


def _copy_order(service, event_type, event):
    handlers.apply_order_event(service.db, event)


@handles_each("orders", ORDER_EVENTS, _copy_order)
class ExportsService(OmsService):
    name = "exports"

    db = Database(infrastructure)
    settings = Settings()
    orders = TimedRpcProxy("orders", timeout_setting="ORDERS_RPC_TIMEOUT")

    # the export copy (orders and payments events); on_order_created … on_order_status_changed,
    # one per order event, each updating the copied order (@handles_each above)
    @reliable_event_handler("orders", "customers_merged")
    def on_customers_merged(self, event):
        handlers.apply_customers_merged(self.db, event)

    @reliable_event_handler("payments", "payment_status_changed")
    def on_payment_status_changed(self, event):
        handlers.apply_payment_status(self.db, event)

    # downloads (the gateway proxies these, streamed)
    @http("GET", "/exports/<string:name>")
    def download(self, request, name):
        return web.download(self.db.engine, self.settings, request, name)

    @rpc(expected_exceptions=EXPECTED)
    def get_schema(self, schema_version=None):
        return formats.schema(formats.requested_version(schema_version))

    copy_status = use_case_rpc(handlers.copy_status)
    get_order_copy = use_case_rpc(handlers.get_order_copy)

    # scheduled jobs
    list_jobs = use_case_rpc(jobs.list_jobs)
    get_job = use_case_rpc(jobs.get_job)
    create_job = use_case_rpc(jobs.create_job)
    update_job = use_case_rpc(jobs.update_job)
    delete_job = use_case_rpc(jobs.delete_job)
    run_job_now = use_case_rpc(jobs.run_job_now)

    @rpc(expected_exceptions=EXPECTED)
    def list_runs(self, query=None):
        return jobs.list_runs(self.db, query, self.settings.export_dir)

    @configured_timer("JOB_TIMER_SECONDS")
    def run_due_jobs(self):
        job_runs.run_due_jobs(self.db, self.settings, replica=self.settings.replica)

    # import
    @rpc(expected_exceptions=EXPECTED)
    def import_orders(self, document_base64, actor=None, dry_run=False):
        try:
            data = base64.b64decode(document_base64 or "", validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise BadRequest("The document must be sent base64-encoded.", {"document": ["Not valid base64."]}) from None
        settings = self.settings

        def create_order(body, actor, idempotency_key):
            return self.orders("create_order", body, actor=actor, idempotency_key=idempotency_key)

        return imports.import_orders(
            data, create_order, settings.import_max_bytes, settings.import_max_orders, actor=actor, dry_run=dry_run
        )
