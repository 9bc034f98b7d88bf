"""Document routes: the shop profile (admin only) and the documents issued for an order."""

import base64
import re

from werkzeug.wrappers import Response

from oms_common.problems import NotFound
from oms_contracts import documents as wire

from ..router import router

TAGS = ["documents"]


@router.route(
    "GET",
    "/api/v1/settings/shop-profile",
    "settings.write",
    "The shop profile that issues invoices (admin only: it holds the bank account)",
    TAGS,
)
def get_shop_profile(ctx):
    return ctx.call("documents", "get_shop_profile")


@router.route(
    "PUT",
    "/api/v1/settings/shop-profile",
    "settings.write",
    "Replace the shop profile: legal name, address, VAT number, accounts, terms",
    TAGS,
    body=wire.ShopProfileSchema,
)
def put_shop_profile(ctx):
    return ctx.call("documents", "put_shop_profile", ctx.body(), ctx.actor)


def _document_id(value):
    if not value.isdigit() or len(value) > 18:
        raise NotFound(f"No document {value!r}.")
    return int(value)


@router.route(
    "GET",
    "/api/v1/orders/<reference>/documents",
    "read",
    "The order's issued documents (invoice, credit notes), oldest first",
    TAGS,
)
def list_documents(ctx, reference):
    return {"items": ctx.call("documents", "list_documents", reference)}


@router.route(
    "GET",
    "/api/v1/orders/<reference>/documents/<document_id>.pdf",
    "read",
    "One issued document as PDF: the bytes stored when it was issued, every time",
    TAGS,
    produces="application/pdf",
)
def download_document(ctx, reference, document_id):
    document = ctx.call("documents", "get_document", reference, _document_id(document_id))
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
