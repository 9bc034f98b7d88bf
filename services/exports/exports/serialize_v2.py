"""Version 2 of the export format (``schema/oms-export-2.xsd``, namespace ``…/export/2``): version 1
with VAT. Plain records in, byte chunks out, streamed as version 1 is (``writers``).

An order record is the order document with the copy's VAT columns laid over it
(``taxes.with_copy``). Each line gets its ``<tax_rate>``, each order its ``<tax_breakdown>``
(``prices_include_tax``, ``country``, a ``<row>`` per rate with rate, net, tax and gross). Amounts
have their currency's decimals (``taxes.amount_text``). Orders without VAT data are written
without either element: absent means not known, never 0 %. Customers are written as in
version 1, in this version's namespace. CSV: the columns of version 1, then ``CSV_TAX_COLUMNS``.
"""

from pathlib import Path

from . import serialize, taxes
from .serialize import customer_rows, customer_xml
from .writers import (
    CHUNK_SIZE,
    attr,
    check_valid,
    compiled_schema,
    document_chunks,
    document_head,
    esc,
    int_text,
    version_chunks,
)

NS = "https://oms.example/ns/export/2"
SCHEMA_VERSION = "2"
SCHEMA_FILE_NAME = "oms-export-2.xsd"
SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / SCHEMA_FILE_NAME


def schema_text():
    return SCHEMA_PATH.read_text(encoding="utf-8")


def xml_schema():
    return compiled_schema(str(SCHEMA_PATH))


def _tax_breakdown(order, money):
    if not taxes.has_tax_data(order):
        return ""
    attributes = ""
    if order.get("prices_include_tax") is not None:
        attributes += f' prices_include_tax="{"true" if order["prices_include_tax"] else "false"}"'
    if order.get("tax_country"):
        attributes += f' country="{attr(order["tax_country"])}"'
    rows = "".join(
        f"<row><rate>{esc(row.get('rate'))}</rate><net>{money(row.get('net'))}</net>"
        f"<tax>{money(row.get('tax'))}</tax><gross>{money(row.get('gross'))}</gross></row>"
        for row in order.get("tax_breakdown") or ()
    )
    return f"<tax_breakdown{attributes}>{rows}</tax_breakdown>"


def order_xml(order):
    """One ``<order>`` element of version 2 (text, in this version's default namespace)."""
    currency = order.get("currency")

    def money(value):
        return esc(taxes.amount_text(value, currency))

    parts = serialize.order_head(order)
    parts.append("<lines>")
    for position, line in enumerate(order.get("lines") or (), start=1):
        rate = line.get("tax_rate")
        parts.append(
            f'<line position="{int_text(line.get("position"), position)}">'
            f"<article_number>{esc(line.get('article_number'))}</article_number>"
            f"<name>{esc(line.get('name'))}</name>"
            f"<quantity>{esc(line.get('quantity'))}</quantity>"
            f"<unit_price>{money(line.get('unit_price'))}</unit_price>"
            f"<line_total>{money(line.get('line_total'))}</line_total>"
            + (f"<tax_rate>{esc(rate)}</tax_rate>" if rate is not None else "")
            + "</line>"
        )
    parts.append(
        f"</lines><totals><subtotal>{money(order.get('subtotal'))}</subtotal>"
        f"<shipping_cost>{money(order.get('shipping_cost'))}</shipping_cost>"
        f"<total>{money(order.get('total'))}</total></totals>"
    )
    parts.append(_tax_breakdown(order, money))
    parts.append("</order>")
    return "".join(parts)


ELEMENT_BUILDERS = {"orders": order_xml, "customers": customer_xml}


def check_exportable(order):
    """Raises NotExportable unless ``order`` (with the copy's VAT laid over it) is a valid version 2 ``<order>``."""
    check_valid(order, order_xml, xml_schema(), NS, SCHEMA_VERSION)


def xml_chunks(kind, records, generated_at, watermark=None, since_seq=None, stats=None, chunk_size=CHUNK_SIZE):
    head = document_head(kind, generated_at, watermark, since_seq, namespace=NS, version=SCHEMA_VERSION)
    yield from document_chunks(head, ELEMENT_BUILDERS[kind], records, stats, chunk_size)


# ---------------------------------------------------------------- CSV

# after the columns of version 1, on each line's row: its rate, and the order's basis, country and
# breakdown (``rate:net:tax:gross`` per rate, ``|`` between rates, highest rate first)
CSV_TAX_COLUMNS = ("line_tax_rate", "prices_include_tax", "tax_country", "tax_breakdown")
ORDER_COLUMNS = (*serialize.ORDER_COLUMNS, *CSV_TAX_COLUMNS)
CUSTOMER_COLUMNS = serialize.CUSTOMER_COLUMNS


def order_rows(order):
    """One row per order line, the order's columns repeated on each; amounts with the currency's decimals."""
    currency = order.get("currency")

    def money(value):
        return taxes.amount_text(value, currency)

    head = serialize.order_cells(order, money)
    basis = order.get("prices_include_tax")
    tail = [
        "" if basis is None else ("true" if basis else "false"),
        order.get("tax_country") or "",
        taxes.breakdown_cell(order.get("tax_breakdown"), currency),
    ]
    for position, line in enumerate(order.get("lines") or (), start=1):
        yield head + serialize.line_cells(line, position, money) + [line.get("tax_rate") or ""] + tail


CSV_LAYOUT = {"orders": (ORDER_COLUMNS, order_rows), "customers": (CUSTOMER_COLUMNS, customer_rows)}


csv_chunks, chunks = version_chunks(xml_chunks, CSV_LAYOUT)
