"""Bank statements (camt.053 / camt.054): the import, its report, the unmatched credits and
the payment references an order's transfers carry. The payments service does the matching."""

from functools import partial

from oms_contracts import bank_statements as wire

from ..router import router
from .forward import forward, numbered

TAGS = ["bank statements"]
IMPORT_TIMEOUT = 300  # a statement of 10,000 credits is booked in one transaction


@router.route(
    "POST",
    "/api/v1/imports/bank-statements",
    "payments.manage",
    "Import a camt.054 or camt.053 file (.001.04 – .001.08): credits matched to payments, once each",
    TAGS,
    status=201,
    response=wire.ReportSchema,
    request_body={"required": True, "content": {"application/xml": {"schema": {"type": "string"}}}},
)
def import_bank_statement(ctx):
    encoded = ctx.uploaded_document("BANK_STATEMENT_MAX_BYTES", "Send the camt XML file as the request body.")
    reply = ctx.call.async_("payments", "import_bank_statement", encoded, ctx.actor)
    return 201, ctx.call.result("payments", reply, timeout=IMPORT_TIMEOUT)


_forward = partial(forward, "payments", TAGS)

_forward(
    "get_bank_statement_import",
    "GET",
    "/api/v1/imports/bank-statements/<import_id>",
    "payments.manage",
    "The report of a bank-statement import",
    convert=numbered("bank statement import"),
    response=wire.ReportSchema,
)

_forward(
    "list_unmatched_credits",
    "GET",
    "/api/v1/bank-statements/unmatched",
    "payments.manage",
    "Credits no order could be found for (or, with outcome, the overpaid or partial ones)",
    rpc="list_bank_entries",
    query=wire.UnmatchedQuerySchema,
)

_forward(
    "assign_unmatched_credit",
    "POST",
    "/api/v1/bank-statements/unmatched/<entry_id>/assign",
    "payments.manage",
    "Book an unmatched credit on an order, as if the import had matched it",
    rpc="assign_bank_entry",
    convert=numbered("bank statement entry"),
    body=wire.AssignSchema,
)

_forward(
    "payment_references",
    "GET",
    "/api/v1/orders/<reference>/payment-references",
    "read",
    "The QR reference and creditor reference a bank transfer for the order carries",
    response=wire.PaymentReferencesSchema,
)
