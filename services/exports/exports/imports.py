"""Import of orders from an export document (XML, schema oms-export-1.xsd).

Order of work — nothing is written until every step has passed for the whole document:

1. size limit (``IMPORT_MAX_BYTES``) before any parsing;
2. parsing with a parser that cannot be turned against the service: no DTD loading, no
   entity substitution, no network, libxml2's default limits on depth and node size
   (``huge_tree=False``); a document with a DOCTYPE (where entities are declared: XXE,
   "billion laughs") is rejected outright;
3. validation against the XSD; each error is reported for the order element it is in;
4. the checks the XSD cannot express (line totals, sums, what the orders service accepts);
5. only then are the orders created, one ``create_order`` call of the orders service (which
   owns orders) per order, each with an idempotency key made of the document's SHA-256 and
   the order's reference in the file.

What an import creates: for each ``<order>`` a new, submitted order in the orders service,
with that service's next reference number and (when enabled) invoice number; status ``new``
(or ``payment_pending`` for card/PayPal), payment status as for any new order; the customer
is the existing customer with that e-mail address, or a new one (name split at the last
space; language from the order). Customer, addresses, lines, amounts, currency and payment
method come from the file; reference, invoice number, statuses and times of the file are
validated but not taken over (the orders service owns them); the file's reference is kept
in the audit trail of the new order (``origin``). A ``kind="customers"`` document is refused:
customers come into being with their orders.

All or nothing: a document with any rejected element creates nothing. The orders service
has no multi-order transaction, so if it fails in the middle of step 5 (it is down, or it
refuses an order the checks let through) the orders created so far stay; the answer lists
them, and sending the same document again creates only the missing ones (the idempotency
keys make every order of a given document be created at most once).
"""

import hashlib
import re
from decimal import Decimal

from lxml import etree
from marshmallow import ValidationError, validate

from oms_common import safe_xml
from oms_common.problems import Problem, ServiceUnavailable, ValidationFailed

from . import domain, serialize

NS = domain.NAMESPACE
_N = f"{{{NS}}}"
_email = validate.Email()
MAX_REPORTED = 1000


# 422: the document was refused; ``errors`` maps each rejected element to its reasons. The
# shared class itself (not a subclass), so that it crosses RPC as a known problem.
ImportRejected = ValidationFailed


def _reject(detail, errors):
    raise ImportRejected(detail, errors)


_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_DOCTYPE_16 = (
    "<!DOCTYPE".encode("utf-16-le"),
    "<!DOCTYPE".encode("utf-16-be"),
    "<!ENTITY".encode("utf-16-le"),
    "<!ENTITY".encode("utf-16-be"),
)
DTD_MESSAGE = (
    "A DTD (DOCTYPE or ENTITY declaration) is not allowed: external entities and entity expansion are refused."
)


def parse(data, max_bytes):
    """The document's tree, or ImportRejected naming what is wrong with it."""
    if not isinstance(data, (bytes, bytearray)):
        _reject("The document must be bytes.", {"document": ["Expected the raw XML bytes."]})
    if len(data) == 0:
        _reject("The document is empty.", {"document": ["Empty document."]})
    if len(data) > max_bytes:
        _reject(
            f"The document is larger than {max_bytes} bytes.",
            {"document": [f"{len(data)} bytes; the limit is {max_bytes}."]},
        )
    prolog = bytes(data[:65536])
    if _DOCTYPE.search(prolog) or any(marker in prolog for marker in _DOCTYPE_16):
        _reject("The document declares a DTD or entities.", {"document": [DTD_MESSAGE]})
    try:
        root = etree.fromstring(bytes(data), safe_xml.parser())
    except etree.XMLSyntaxError as error:
        _reject("The document is not well-formed XML.", {"document": [f"Line {error.lineno}: {error.msg}"]})
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.doctype:
        _reject("The document declares a DTD or entities.", {"document": [DTD_MESSAGE]})
    for _ in root.iter(etree.Entity):
        _reject("The document uses entity references.", {"document": [DTD_MESSAGE]})
    return root


def _clean(message):
    return message.replace(_N, "")


def _location(root, element):
    """'order[3] (reference 1042)' for anything inside the third record; 'document' above."""
    node = element
    while node is not None and node.getparent() is not None and node.getparent() is not root:
        node = node.getparent()
    if node is None or node is root or node.getparent() is None:
        return "document"
    tag = etree.QName(node).localname
    siblings = [child for child in root if isinstance(child.tag, str) and etree.QName(child).localname == tag]
    index = siblings.index(node) + 1
    key = node.get("reference") if tag == "order" else node.get("id")
    label = "reference" if tag == "order" else "id"
    return f"{tag}[{index}]" + (f" ({label} {key})" if key else "")


def validate_schema(root):
    schema = serialize.xml_schema()
    if schema.validate(root):
        return {}
    errors = {}
    tree = root.getroottree()
    for entry in schema.error_log:
        try:
            found = tree.xpath(entry.path) if entry.path else []
        except etree.XPathError:
            found = []
        where = _location(root, found[0]) if found and isinstance(found[0], etree._Element) else "document"
        errors.setdefault(where, []).append(f"Line {entry.line}: {_clean(entry.message)}")
        if len(errors) >= MAX_REPORTED:
            break
    return errors


# ---------------------------------------------------------------- reading records


def _text(element, tag):
    child = element.find(_N + tag)
    return None if child is None else (child.text or "")


def _address(element):
    return {field: _text(element, field) or "" for field in serialize.ADDRESS_FIELDS}


def read_order(element):
    customer = element.find(_N + "customer")
    totals = element.find(_N + "totals")
    invoice = element.find(_N + "invoice_number")
    return {
        "reference": element.get("reference"),
        "version": int(element.get("version")),
        "invoice_number": None if invoice is None else invoice.text,
        "invoice_number_external": invoice is not None and invoice.get("external") in ("true", "1"),
        "status": _text(element, "status"),
        "payment_status": _text(element, "payment_status"),
        "payment_method": _text(element, "payment_method"),
        "currency": _text(element, "currency"),
        "language": _text(element, "language"),
        "created_at": _text(element, "created_at"),
        "updated_at": _text(element, "updated_at"),
        "submitted_at": _text(element, "submitted_at"),
        "tracking_number": _text(element, "tracking_number"),
        "customer": {"id": int(customer.get("id")), "email": _text(customer, "email"), "name": _text(customer, "name")},
        "billing_address": _address(element.find(_N + "billing_address")),
        "shipping_address": _address(element.find(_N + "shipping_address")),
        "lines": [
            {
                "position": int(line.get("position")),
                "article_number": _text(line, "article_number"),
                "name": _text(line, "name"),
                "quantity": int(_text(line, "quantity")),
                "unit_price": _text(line, "unit_price"),
                "line_total": _text(line, "line_total"),
            }
            for line in element.find(_N + "lines").findall(_N + "line")
        ],
        "subtotal": _text(totals, "subtotal"),
        "shipping_cost": _text(totals, "shipping_cost"),
        "total": _text(totals, "total"),
    }


def order_request(order):
    """The orders service's create_order body for an imported order."""
    first_name, last_name = domain.split_name(order["customer"]["name"], order["billing_address"]["last_name"])
    return {
        "customer": {
            "email": order["customer"]["email"],
            "first_name": first_name,
            "last_name": last_name,
            "language": order["language"],
        },
        "billing_address": order["billing_address"],
        "shipping_address": order["shipping_address"],
        "lines": [
            {
                "article_number": line["article_number"],
                "name": line["name"],
                "quantity": line["quantity"],
                "unit_price": f"{Decimal(line['unit_price']):.2f}",
            }
            for line in order["lines"]
        ],
        "shipping_cost": f"{Decimal(order['shipping_cost']):.2f}",
        "currency": order["currency"],
        "payment_method": order["payment_method"],
        "submit": True,
    }


def _check(order, request):
    problems = domain.check_order(order)
    try:
        _email(order["customer"]["email"])
    except ValidationError:
        problems.append(("customer.email", "Not a valid e-mail address."))
    for field in ("first_name", "last_name"):
        value = request["customer"][field]
        if not value or len(value) > 100:
            problems.append(("customer.name", f"The customer's {field.replace('_', ' ')} must be 1 to 100 characters."))
    return problems


def check_document(data, max_bytes, max_orders):
    """Everything up to (not including) writing: the orders to create, or ImportRejected."""
    root = parse(data, max_bytes)
    if etree.QName(root).namespace != NS or etree.QName(root).localname != "export":
        _reject("This is not an OMS export document.", {"document": [f"The root element must be {{{NS}}}export."]})
    if root.get("kind") == "customers":
        _reject(
            "Customer documents cannot be imported; customers come with their orders.",
            {"document": ["kind='customers' is not importable; import orders (their customers come along)."]},
        )
    count = sum(1 for child in root if isinstance(child.tag, str) and etree.QName(child).localname == "order")
    if count > max_orders:
        _reject(
            f"The document holds {count} orders; the limit is {max_orders} per import.",
            {"document": [f"{count} orders; at most {max_orders} per import."]},
        )
    errors = validate_schema(root)
    end = root.find(_N + "end")
    if end is not None and end.get("count", "").isdigit() and int(end.get("count")) != count:
        errors.setdefault("document", []).append(
            f"<end count='{end.get('count')}'/> but the document holds {count} orders: it is incomplete."
        )
    orders = []
    for index, element in enumerate(
        (c for c in root if isinstance(c.tag, str) and etree.QName(c).localname == "order"), start=1
    ):
        where = f"order[{index}]" + (f" (reference {element.get('reference')})" if element.get("reference") else "")
        if where in errors:
            continue  # not schema-valid: its content cannot be trusted for further checks
        order = read_order(element)
        request = order_request(order)
        problems = _check(order, request)
        if problems:
            errors.setdefault(where, []).extend(f"{field}: {message}" for field, message in problems)
        orders.append((order, request))
    if errors:
        rejected = sum(1 for key in errors if key != "document")
        raise ImportRejected(
            f"Nothing was imported: {rejected} of {count} orders rejected"
            + (" and the document itself is invalid" if "document" in errors else "")
            + ".",
            errors,
        )
    return orders


def import_orders(data, create_order, max_bytes, max_orders, actor=None, dry_run=False):
    """Validates the whole document, then creates its orders through ``create_order(body, actor, key)``."""
    orders = check_document(data, max_bytes, max_orders)
    digest = hashlib.sha256(bytes(data)).hexdigest()
    if dry_run:
        return {"status": "valid", "count": len(orders), "document_sha256": digest, "orders": []}
    actor = dict(actor or {"name": "import", "kind": "system"})
    created = []
    for order, request in orders:
        source_reference = order["reference"]
        order_actor = {**actor, "origin": f"xml-import {digest[:16]} reference {source_reference}"[:200]}
        key = f"oms-import:{digest}:{source_reference}"
        try:
            result = create_order(request, order_actor, key)
        except Problem as problem:
            raise _partial(problem, created, source_reference) from None
        except Exception as error:  # noqa: BLE001 - the orders service is unreachable or failed
            raise _partial(ServiceUnavailable(f"{type(error).__name__}: {error}"), created, source_reference) from None
        created.append(
            {
                "source_reference": source_reference,
                "reference": result["order"]["reference"],
                "invoice_number": result["order"].get("invoice_number"),
                "replayed": bool(result.get("replayed")),
            }
        )
    return {"status": "imported", "count": len(created), "document_sha256": digest, "orders": created}


def _partial(problem, created, source_reference):
    detail = (
        f"The orders service refused or failed on order {source_reference} after {len(created)} orders "
        f"were created: {problem.detail}. Send the same document again to create the rest; orders "
        "already created are not created twice."
    )
    errors = dict(problem.errors or {})
    errors = {f"order (reference {source_reference}).{key}": value for key, value in errors.items()} or {
        f"order (reference {source_reference})": [problem.detail or problem.title]
    }
    errors["created"] = [f"{c['source_reference']} -> {c['reference']}" for c in created]
    return type(problem)(detail, errors) if isinstance(problem, Problem) else ServiceUnavailable(detail, errors)
