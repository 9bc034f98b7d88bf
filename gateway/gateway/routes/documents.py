"""Document routes: the shop profile (admin only), the documents issued for an order, and those of
several orders as one PDF."""

import base64
import re
from functools import partial
from urllib.parse import quote

from werkzeug.wrappers import Response

from oms_common.problems import load
from oms_contracts import documents as wire

from ..router import numeric_id, router
from .forward import forward

TAGS = ["documents"]


_forward = partial(forward, "documents", TAGS)

_forward(
    "get_shop_profile",
    "GET",
    "/api/v1/settings/shop-profile",
    "settings.write",
    "The shop profile that issues invoices (admin only: it holds the bank account)",
)

_forward(
    "put_shop_profile",
    "PUT",
    "/api/v1/settings/shop-profile",
    "settings.write",
    "Replace the shop profile: legal name, address, VAT number, accounts, terms",
    body=wire.ShopProfileSchema,
)

_forward(
    "list_documents",
    "GET",
    "/api/v1/orders/<reference>/documents",
    "read",
    "The order's issued documents (invoice, credit notes), oldest first",
    items=True,
)


@router.route(
    "GET",
    "/api/v1/orders/<reference>/documents/<document_id>.pdf",
    "read",
    "One issued document as PDF: the bytes stored when it was issued, every time",
    TAGS,
    produces="application/pdf",
)
def download_document(ctx, reference, document_id):
    document = ctx.call("documents", "get_document", reference, numeric_id(document_id, "document"))
    file_name = re.sub(r"[^A-Za-z0-9._-]", "_", f"{document['kind']}-{document['number']}")[:100]
    return Response(
        base64.b64decode(document["content"]),
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{file_name}.pdf"',
            "ETag": f'"{document["sha256"]}"',
            "X-OMS-SHA256": document["sha256"],
        },
    )


MISSING_HEADER = "X-OMS-Missing"


def merged_pdf(answer):
    """The merged file as a download; ``X-OMS-Missing`` names the references without documents
    (comma separated, each percent-encoded as in a URL; absent when every one had some)."""
    headers = {
        "Content-Disposition": f'attachment; filename="documents-{int(answer["count"])}.pdf"',
        "Cache-Control": "no-store",
    }
    if answer["missing"]:
        headers[MISSING_HEADER] = ",".join(quote(reference, safe="") for reference in answer["missing"])
    return Response(base64.b64decode(answer["content"]), mimetype="application/pdf", headers=headers)


# exports.read, not read: one request takes every document of up to 200 orders out of OMS, as the
# exports of the order list do; one document at a time stays open to every reader
@router.route(
    "POST",
    "/api/v1/documents/merged",
    "exports.read",
    "The stored documents of several orders as one PDF: for each reference in the order given, its "
    "documents oldest first (optionally only some kinds), every page as issued",
    TAGS,
    body=wire.MergedDocumentsSchema,
    produces="application/pdf",
    response_headers={
        MISSING_HEADER: "The references without documents (of the kinds asked for), comma separated and "
        "percent-encoded; absent when every reference had some"
    },
    changes_nothing=True,
)
def merged_documents(ctx):
    asked = load(wire.MergedDocumentsSchema(), ctx.body())
    return merged_pdf(ctx.call("documents", "merged_documents", asked["references"], asked["kinds"]))
