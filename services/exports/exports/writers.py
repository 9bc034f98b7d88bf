"""What every version of the export format shares: streaming records as byte chunks, XML escaping,
the document's head and end, and the check an order passes before it enters the copy.

Nothing here reads a database or knows about nameko; the callers hand in rows as they come
from a server-side cursor and pass the chunks on (to an HTTP response or to a file), so
memory stays flat however many records there are: a generator builds each record's text,
collects about 64 KiB, yields it as UTF-8 and forgets it. Escaping is done here (``esc``,
``attr``): markup characters, quotes and CR become references; characters XML 1.0 cannot
carry become U+FFFD, as ``domain.xml_text`` documents.
"""

import csv
import functools
import io
import re

from lxml import etree

from . import domain

CHUNK_SIZE = 64 * 1024
BOM = "\ufeff"


class Stats:
    """What a writer produced: records and bytes (read after the iterator is exhausted)."""

    def __init__(self):
        self.records = 0
        self.bytes = 0


# Text content: markup characters and CR are escaped (CR as &#13; so that it survives
# end-of-line normalisation); characters XML 1.0 cannot carry become U+FFFD (domain.xml_text).
_TEXT_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# Attribute values additionally: quotes and the whitespace that attribute normalisation would eat.
_ATTR_SPECIAL = re.compile('[&<>"\r\n\t\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]')
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#9;"}


def _entity(match):
    return _ENTITIES.get(match.group(), domain.REPLACEMENT)


def _escaped(value, special):
    """``value`` as text with the characters ``special`` matches replaced (most values have none)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value)
    if special.search(value) is None:
        return value
    return special.sub(_entity, value)


def esc(value):
    """``value`` as XML text content."""
    return _escaped(value, _TEXT_SPECIAL)


def attr(value):
    """``value`` as the content of a double-quoted XML attribute."""
    return _escaped(value, _ATTR_SPECIAL)


def int_text(value, default=0):
    try:
        return str(int(value))
    except (TypeError, ValueError):
        return str(default)


class NotExportable(ValueError):
    """An order the export schema would refuse; the copy does not take it (the event is parked)."""


def document_head(
    kind, generated_at, watermark=None, since_seq=None, namespace=domain.NAMESPACE, version=domain.SCHEMA_VERSION
):
    attributes = [f'kind="{attr(kind)}"', f'schema_version="{version}"', f'generated_at="{attr(generated_at)}"']
    if watermark is not None:
        attributes.append(f'watermark="{int(watermark)}"')
    if since_seq is not None:
        attributes.append(f'since_seq="{int(since_seq)}"')
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<export xmlns="{namespace}" {" ".join(attributes)}>\n'


def document_end(count):
    return f'<end count="{int(count)}"/>\n</export>\n'


def check_valid(order, build, schema, namespace, version):
    """Raises NotExportable unless ``build(order)`` is an ``<order>`` that ``schema`` accepts."""
    try:
        text = document_head("orders", "2000-01-01T00:00:00+00:00", namespace=namespace, version=version)
        root = etree.fromstring((text + build(order) + document_end(1)).encode("utf-8"))
    except (TypeError, ValueError, AttributeError, etree.XMLSyntaxError) as error:
        raise NotExportable(f"order cannot be serialized: {error}") from None
    if not schema.validate(root):
        messages = "; ".join(entry.message.replace(f"{{{namespace}}}", "") for entry in schema.error_log)
        raise NotExportable(f"order {order.get('reference')!r} does not fit export schema {version}: {messages}"[:1500])


def document_chunks(head_text, build, records, stats=None, chunk_size=CHUNK_SIZE):
    """``head_text``, ``build(record)`` of each record and the ``<end>``, as UTF-8 chunks of about ``chunk_size``."""
    stats = stats if stats is not None else Stats()
    parts = [head_text]
    size = 0
    for record in records:
        text = build(record)
        parts.append(text)
        size += len(text)
        stats.records += 1
        if size >= chunk_size:
            chunk = "".join(parts).encode("utf-8")
            parts, size = [], 0
            stats.bytes += len(chunk)
            yield chunk
    parts.append(document_end(stats.records))
    chunk = "".join(parts).encode("utf-8")
    stats.bytes += len(chunk)
    yield chunk


def table_chunks(columns, rows, records, delimiter=";", stats=None, chunk_size=CHUNK_SIZE):
    """RFC 4180 CSV as spreadsheets open it: UTF-8 with BOM, the header ``columns``, then the rows of
    ``rows(record)`` for each record, CRLF line ends, fields quoted when they contain the delimiter, a
    quote or a line break. ``stats.records`` counts records, not rows."""
    stats = stats if stats is not None else Stats()
    buffer = io.StringIO()
    writer = csv.writer(
        buffer, delimiter=delimiter, quotechar='"', lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL, doublequote=True
    )
    buffer.write(BOM)
    writer.writerow(columns)
    for record in records:
        writer.writerows(rows(record))
        stats.records += 1
        if buffer.tell() >= chunk_size:
            chunk = buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            stats.bytes += len(chunk)
            yield chunk
    chunk = buffer.getvalue().encode("utf-8")
    stats.bytes += len(chunk)
    yield chunk


def version_chunks(xml_chunks, csv_layout):
    """``(csv_chunks, chunks)`` of one version of the format, from its XML writer and its CSV layout
    (``{kind: (columns, rows of one record)}``)."""

    def csv_chunks(kind, records, delimiter=";", stats=None, chunk_size=CHUNK_SIZE):
        """The CSV of ``kind`` as ``table_chunks`` writes it; ``stats.records`` counts orders/customers."""
        columns, rows = csv_layout[kind]
        yield from table_chunks(columns, rows, records, delimiter, stats, chunk_size)

    def chunks(kind, fmt, records, generated_at, watermark=None, since_seq=None, delimiter=";", stats=None):
        if fmt == "xml":
            return xml_chunks(kind, records, generated_at, watermark=watermark, since_seq=since_seq, stats=stats)
        return csv_chunks(kind, records, delimiter=delimiter, stats=stats)

    return csv_chunks, chunks


CONTENT_TYPES = {"xml": "application/xml; charset=utf-8", "csv": "text/csv; charset=utf-8"}


@functools.cache
def compiled_schema(path):
    """The XSD at ``path``, compiled once per process (every check of a document uses it)."""
    return etree.XMLSchema(etree.parse(path))
