"""Version 1 of the export format (``schema/oms-export-1.xsd``): plain records in, byte chunks out.

This version never changes: its output for the same records stays byte for byte what it was
(version 2, with VAT, is ``serialize_v2``). The streaming and escaping both versions share is
in ``writers``: nothing here reads a database or knows about nameko, and memory stays flat
however many records there are. lxml parses and validates the output in the tests and in
``check_exportable``, which every order passes before it enters the copy.
"""

from pathlib import Path

from . import domain
from .writers import CHUNK_SIZE as CHUNK_SIZE
from .writers import NotExportable as NotExportable
from .writers import Stats as Stats
from .writers import attr, check_valid, compiled_schema, document_chunks, document_head, esc, int_text, version_chunks

NS = domain.NAMESPACE
SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "oms-export-1.xsd"
SCHEMA_FILE_NAME = "oms-export-1.xsd"


ADDRESS_FIELDS = ("first_name", "last_name", "company", "street", "postal_code", "city", "country", "phone")


def schema_text():
    return SCHEMA_PATH.read_text(encoding="utf-8")


def xml_schema():
    return compiled_schema(str(SCHEMA_PATH))


def address_xml(tag, address):
    return (
        f"<{tag}><first_name>{esc(address.get('first_name'))}</first_name>"
        f"<last_name>{esc(address.get('last_name'))}</last_name>"
        f"<company>{esc(address.get('company'))}</company>"
        f"<street>{esc(address.get('street'))}</street>"
        f"<postal_code>{esc(address.get('postal_code'))}</postal_code>"
        f"<city>{esc(address.get('city'))}</city>"
        f"<country>{esc(address.get('country'))}</country>"
        f"<phone>{esc(address.get('phone'))}</phone></{tag}>"
    )


def order_head(order):
    """An ``<order>`` element's opening, facts, customer and addresses: the same in every version."""
    parts = [f'<order reference="{attr(order.get("reference"))}" version="{int_text(order.get("version"), 1)}">']
    if order.get("invoice_number"):
        external = "true" if order.get("invoice_number_external") else "false"
        parts.append(f'<invoice_number external="{external}">{esc(order["invoice_number"])}</invoice_number>')
    parts.append(
        f"<status>{esc(order.get('status'))}</status>"
        f"<payment_status>{esc(order.get('payment_status'))}</payment_status>"
        f"<payment_method>{esc(order.get('payment_method'))}</payment_method>"
        f"<currency>{esc(order.get('currency'))}</currency>"
        f"<language>{esc(order.get('language'))}</language>"
        f"<created_at>{esc(order.get('created_at'))}</created_at>"
        f"<updated_at>{esc(order.get('updated_at'))}</updated_at>"
    )
    if order.get("submitted_at"):
        parts.append(f"<submitted_at>{esc(order['submitted_at'])}</submitted_at>")
    if order.get("tracking_number"):
        parts.append(f"<tracking_number>{esc(order['tracking_number'])}</tracking_number>")
    customer = order.get("customer") or {}
    parts.append(
        f'<customer id="{int_text(customer.get("id"))}"><email>{esc(customer.get("email"))}</email>'
        f"<name>{esc(customer.get('name'))}</name></customer>"
    )
    parts.append(address_xml("billing_address", order.get("billing_address") or {}))
    parts.append(address_xml("shipping_address", order.get("shipping_address") or {}))
    return parts


def order_xml(order):
    """One ``<order>`` element (text, in the export's default namespace)."""
    parts = order_head(order)
    parts.append("<lines>")
    for position, line in enumerate(order.get("lines") or (), start=1):
        parts.append(
            f'<line position="{int_text(line.get("position"), position)}">'
            f"<article_number>{esc(line.get('article_number'))}</article_number>"
            f"<name>{esc(line.get('name'))}</name>"
            f"<quantity>{esc(line.get('quantity'))}</quantity>"
            f"<unit_price>{esc(line.get('unit_price'))}</unit_price>"
            f"<line_total>{esc(line.get('line_total'))}</line_total></line>"
        )
    parts.append(
        f"</lines><totals><subtotal>{esc(order.get('subtotal'))}</subtotal>"
        f"<shipping_cost>{esc(order.get('shipping_cost'))}</shipping_cost>"
        f"<total>{esc(order.get('total'))}</total></totals></order>"
    )
    return "".join(parts)


def customer_xml(customer):
    language = f"<language>{esc(customer['language'])}</language>" if customer.get("language") else ""
    return (
        f'<customer id="{int_text(customer.get("id"))}"><email>{esc(customer.get("email"))}</email>'
        f"<name>{esc(customer.get('name'))}</name>{language}"
        f"<updated_at>{esc(customer.get('updated_at'))}</updated_at>"
        + (f"<merged_into>{int_text(customer['merged_into'])}</merged_into>" if customer.get("merged_into") else "")
        + "</customer>"
    )


ELEMENT_BUILDERS = {"orders": order_xml, "customers": customer_xml}


def check_exportable(order):
    """Raises NotExportable unless ``order`` serializes to an XSD-valid ``<order>``."""
    check_valid(order, order_xml, xml_schema(), NS, domain.SCHEMA_VERSION)


def xml_chunks(kind, records, generated_at, watermark=None, since_seq=None, stats=None, chunk_size=CHUNK_SIZE):
    """The export document for ``records`` (dicts), as UTF-8 byte chunks of about ``chunk_size``.

    Written as text with the escaping of ``writers`` rather than through an element tree: ~4x faster,
    and the output is checked against lxml's parser and the XSD by the tests.
    """
    yield from document_chunks(
        document_head(kind, generated_at, watermark, since_seq), ELEMENT_BUILDERS[kind], records, stats, chunk_size
    )


# ---------------------------------------------------------------- CSV

ORDER_COLUMNS = (
    "reference",
    "invoice_number",
    "invoice_number_external",
    "status",
    "payment_status",
    "payment_method",
    "currency",
    "language",
    "created_at",
    "updated_at",
    "submitted_at",
    "tracking_number",
    "customer_id",
    "customer_email",
    "customer_name",
    *(f"billing_{field}" for field in ADDRESS_FIELDS),
    *(f"shipping_{field}" for field in ADDRESS_FIELDS),
    "subtotal",
    "shipping_cost",
    "total",
    "line_position",
    "line_article_number",
    "line_name",
    "line_quantity",
    "line_unit_price",
    "line_total",
)
CUSTOMER_COLUMNS = ("id", "email", "name", "language", "updated_at", "merged_into")
_t = domain.csv_text


def as_given(value):
    """An amount as the record has it (version 1 writes amounts unchanged)."""
    return value or ""


def order_cells(order, money=as_given):
    """The order's columns of each of its CSV rows, amounts written by ``money`` (version 2 gives
    them their currency's decimals)."""
    customer = order.get("customer") or {}
    billing = order.get("billing_address") or {}
    shipping = order.get("shipping_address") or {}
    return [
        _t(order.get("reference")),
        _t(order.get("invoice_number")),
        "true" if order.get("invoice_number_external") else "false",
        order.get("status") or "",
        order.get("payment_status") or "",
        _t(order.get("payment_method")),
        order.get("currency") or "",
        order.get("language") or "",
        order.get("created_at") or "",
        order.get("updated_at") or "",
        order.get("submitted_at") or "",
        _t(order.get("tracking_number")),
        str(customer.get("id") or ""),
        _t(customer.get("email")),
        _t(customer.get("name")),
        *(_t(billing.get(field)) for field in ADDRESS_FIELDS),
        *(_t(shipping.get(field)) for field in ADDRESS_FIELDS),
        money(order.get("subtotal")),
        money(order.get("shipping_cost")),
        money(order.get("total")),
    ]


def line_cells(line, position, money=as_given):
    """The columns of one order line, after the order's."""
    return [
        str(line.get("position") or position),
        _t(line.get("article_number")),
        _t(line.get("name")),
        str(line.get("quantity") or ""),
        money(line.get("unit_price")),
        money(line.get("line_total")),
    ]


def order_rows(order):
    """One row per order line; the order's columns repeat on each of its lines."""
    head = order_cells(order)
    for position, line in enumerate(order.get("lines") or (), start=1):
        yield head + line_cells(line, position)


def customer_rows(customer):
    yield [
        str(customer["id"]),
        _t(customer.get("email")),
        _t(customer.get("name")),
        customer.get("language") or "",
        customer.get("updated_at") or "",
        str(customer.get("merged_into") or ""),
    ]


CSV_LAYOUT = {"orders": (ORDER_COLUMNS, order_rows), "customers": (CUSTOMER_COLUMNS, customer_rows)}


csv_chunks, chunks = version_chunks(xml_chunks, CSV_LAYOUT)
