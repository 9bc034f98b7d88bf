"""Reading the export copy as a stream: one snapshot, a server-side cursor, chunks out.

``ExportStream.open()`` starts a REPEATABLE READ transaction on its own connection and
reads the change counter in it: that number is the export's ``watermark`` (every change up
to it is in this snapshot, none after it). Rows are then fetched ``fetch_size`` at a time
from a server-side cursor and serialized as they come, so memory does not grow with the
number of rows. The stream owns its connection until it is exhausted or closed; it does not
depend on the worker that created it (an HTTP response is iterated after the worker ends).
"""

from sqlalchemy import and_, func, or_, select

from oms_common.db import utcnow
from oms_common.problems import load
from oms_contracts.exports import DEFAULT_SCHEMA_VERSION, QUERY_SCHEMAS, dump_filters

from . import formats, taxes, writers
from .handlers import current_change
from .models import ExportCustomer, ExportOrder

DEFAULT_FETCH_SIZE = 2000


def escape_like(value):
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def load_query(kind, query):
    """The validated filters of a download (a problem naming the field when invalid)."""
    return load(QUERY_SCHEMAS[kind](), dict(query or {}))


def _order_conditions(params):
    conditions = []
    if params.get("status"):
        conditions.append(ExportOrder.status.in_(params["status"]))
    if params.get("payment_status"):
        conditions.append(ExportOrder.payment_status.in_(params["payment_status"]))
    if params.get("customer_id"):
        conditions.append(ExportOrder.customer_id == params["customer_id"])
    if params.get("reference"):
        conditions.append(ExportOrder.reference.in_(params["reference"]))
    if params.get("created_from"):
        conditions.append(ExportOrder.created_at >= params["created_from"])
    if params.get("created_to"):
        conditions.append(ExportOrder.created_at <= params["created_to"])
    if params.get("q"):
        pattern = escape_like(params["q"]) + "%"
        conditions.append(
            or_(ExportOrder.reference.like(pattern, escape="\\"), ExportOrder.invoice_number.like(pattern, escape="\\"))
        )
    return conditions + _change_conditions(ExportOrder, params)


def _customer_conditions(params):
    conditions = []
    q = params.get("q")
    if q:
        pattern = "%" + escape_like(q.lower()) + "%"
        alternatives = [
            func.lower(ExportCustomer.email).like(pattern, escape="\\"),
            func.lower(ExportCustomer.name).like(pattern, escape="\\"),
        ]
        number = q.upper().lstrip("C")
        if number.isdigit() and len(number) < 18:
            alternatives.append(ExportCustomer.id == int(number))
        conditions.append(or_(*alternatives))
    return conditions + _change_conditions(ExportCustomer, params)


def _change_conditions(model, params):
    """What an incremental run asks for: rows changed after a time or after a change sequence number."""
    conditions = []
    if params.get("changed_since"):
        conditions.append(model.updated_at > params["changed_since"])
    if params.get("since_seq") is not None:
        conditions.append(model.change_seq > params["since_seq"])
    return conditions


def _incremental(params):
    return params.get("since_seq") is not None or params.get("changed_since") is not None


TAX_COLUMNS = tuple(getattr(ExportOrder, name) for name in taxes.COLUMNS)


def order_query(params, watermark, with_tax=False):
    """The orders' documents (``with_tax``: and the copy's VAT columns) in export order."""
    conditions = _order_conditions(params) + [ExportOrder.change_seq <= watermark]
    order_by = (ExportOrder.change_seq,) if _incremental(params) else (ExportOrder.created_at, ExportOrder.reference)
    columns = (ExportOrder.document, *TAX_COLUMNS) if with_tax else (ExportOrder.document,)
    return select(*columns).where(and_(*conditions)).order_by(*order_by)


def customer_query(params, watermark):
    conditions = _customer_conditions(params) + [ExportCustomer.change_seq <= watermark]
    order_by = (ExportCustomer.change_seq,) if _incremental(params) else (ExportCustomer.id,)
    return (
        select(
            ExportCustomer.id,
            ExportCustomer.email,
            ExportCustomer.name,
            ExportCustomer.language,
            ExportCustomer.updated_at,
            ExportCustomer.merged_into,
        )
        .where(and_(*conditions))
        .order_by(*order_by)
    )


class ExportStream:
    """An export of ``kind`` in ``fmt`` and version ``schema_version`` of the format: ``open()``,
    then iterate for byte chunks. ``params`` are the loaded filters; a ``schema_version`` among
    them is taken as the version.

    ``stats.records`` and ``stats.bytes`` are final once the iterator is exhausted.
    """

    def __init__(self, engine, kind, fmt, params, delimiter=";", fetch_size=DEFAULT_FETCH_SIZE, schema_version=None):
        self.engine = engine
        self.kind = kind
        self.fmt = fmt
        self.params = dict(params)
        version = self.params.pop("schema_version", None)
        self.schema_version = schema_version or version or DEFAULT_SCHEMA_VERSION
        self.writer = formats.writer(self.schema_version)
        self.delimiter = delimiter
        self.fetch_size = fetch_size
        self.stats = writers.Stats()
        self.watermark = None
        self.generated_at = None
        self._connection = None

    @property
    def filters(self):
        return dump_filters(self.kind, self.params)

    def open(self):
        connection = self.engine.connect()
        try:
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            connection.begin()
            self.watermark = current_change(connection)
        except Exception:
            connection.close()
            raise
        self._connection = connection
        self.generated_at = utcnow().isoformat()
        return self

    def __enter__(self):
        return self.open() if self._connection is None else self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.rollback()
            finally:
                connection.close()

    def records(self):
        with_tax = self.kind == "orders" and self.schema_version >= 2
        if self.kind == "orders":
            query = order_query(self.params, self.watermark, with_tax=with_tax)
        else:
            query = customer_query(self.params, self.watermark)
        result = self._connection.execution_options(stream_results=True, yield_per=self.fetch_size).execute(query)
        try:
            if with_tax:
                for document, *values in result:
                    yield taxes.with_copy(document, dict(zip(taxes.COLUMNS, values, strict=True)))
            elif self.kind == "orders":
                for (document,) in result:
                    yield document
            else:
                for row in result:
                    yield {
                        "id": row.id,
                        "email": row.email,
                        "name": row.name,
                        "language": row.language,
                        "updated_at": row.updated_at.isoformat(),
                        "merged_into": row.merged_into,
                    }
        finally:
            result.close()

    def __iter__(self):
        if self._connection is None:
            self.open()
        try:
            yield from self.writer.chunks(
                self.kind,
                self.fmt,
                self.records(),
                self.generated_at,
                watermark=self.watermark,
                since_seq=self.params.get("since_seq"),
                delimiter=self.delimiter,
                stats=self.stats,
            )
        finally:
            self.close()

    @property
    def content_type(self):
        return writers.CONTENT_TYPES[self.fmt]

    @property
    def file_name(self):
        return f"{self.kind}.{self.fmt}"
