"""The order list's visible filters (removable chips), sorting by any column and the column chooser.

The filters and sort values are the orders list's own (``orders.schemas.ListQuerySchema``): the
UI offers exactly those the service takes, so a parameter the service gains shows up here
without another change, and none is ever sent that it would refuse.
"""

from datetime import datetime

from marshmallow import fields

from oms_contracts.orders import ListQuerySchema
from oms_contracts.values import ORDER_STATUSES, PAYMENT_METHODS, PAYMENT_STATUSES

from .forms import typed_dates

_FIELDS = ListQuerySchema._declared_fields
SORTS = frozenset(ListQuerySchema.SORTS)
# the one search field: ``search`` (everything staff know about an order) once the service
# takes it, ``q`` (reference or invoice number) until then
SEARCH_PARAM = "search" if "search" in _FIELDS else "q"
SEARCH_LABEL = "Search orders" if SEARCH_PARAM == "search" else "Reference or invoice number"

# (parameter, label, the values to tick, or None for typed input)
CHOICE_FILTERS = (
    ("status", "Status", ORDER_STATUSES),
    ("payment_status", "Payment status", PAYMENT_STATUSES),
    ("payment_method", "Payment method", PAYMENT_METHODS),
)
TYPED_FILTERS = (("country", "Country", 2), ("currency", "Currency", 3))
DATE_KEYS = ("created_from", "created_to")
PAGING_KEYS = ("sort", "page", "page_size")

# (column key, label, the sort value named after it, the CSS class its cells carry)
COLUMNS = (
    ("invoice_number", "Invoice number", "invoice_number", "invoice"),
    ("created_at", "Date", "created_at", "date"),
    ("customer", "Customer", "customer", "customer"),
    ("status", "Status", "status", "status"),
    ("payment_status", "Payment status", "payment_status", "payment"),
    ("payment_method", "Payment method", "payment_method", "method"),
    ("total", "Total", "total", "total"),
    ("latest_note", "Latest note", None, "note"),
)
COLUMN_KEYS = tuple(column[0] for column in COLUMNS)
DEFAULT_COLUMNS = tuple(key for key in COLUMN_KEYS if key != "payment_method")
# first click: newest and largest first, names and statuses from A
DESCENDING_FIRST = ("created_at", "total")


def offered(key):
    return key in _FIELDS


def repeatable(key):
    return isinstance(_FIELDS.get(key), fields.List)


def choice_filters():
    return [(key, label, values) for key, label, values in CHOICE_FILTERS if offered(key)]


def typed_filters():
    return [(key, label, size) for key, label, size in TYPED_FILTERS if offered(key)]


def list_keys():
    keys = [SEARCH_PARAM] + [key for key, _, _ in choice_filters()] + [key for key, _, _ in typed_filters()]
    keys += list(DATE_KEYS)
    if offered("disputed"):
        keys.append("disputed")
    return keys + list(PAGING_KEYS)


def list_query(args):
    """The list parameters of a request, as the orders list takes them (UI-only ones left out)."""
    query = {}
    for key in list_keys():
        values = [value for value in args.getlist(key) if value.strip() != ""]
        if not values:
            continue
        if key in ("country", "currency"):
            values = [value.strip().upper() for value in values]
        query[key] = values if repeatable(key) else values[-1]
    return query


def service_query(page, query):
    """The list query as the orders service takes it: typed local dates become the shop's whole days."""
    asked = typed_dates(page, query, DATE_KEYS)
    for key, end in zip(DATE_KEYS, ("00:00:00", "23:59:59.999999"), strict=True):
        if key in asked:
            asked[key] = datetime.fromisoformat(f"{asked[key]}T{end}").replace(tzinfo=page.zone).isoformat()
    return asked


def columns_of(args):
    """The columns chosen (``columns=a,b`` or repeated), in the table's order; the default set otherwise."""
    asked = {part for value in args.getlist("columns") for part in value.split(",") if part}
    chosen = tuple(key for key in COLUMN_KEYS if key in asked)
    return chosen or DEFAULT_COLUMNS


def chips(t, query, link, format_day=str):
    """One removable chip per active filter value: (text, link without it)."""
    made = []
    for key, label, _ in choice_filters():
        values = query.get(key) or []
        for value in values if isinstance(values, list) else [values]:
            rest = [v for v in values if v != value] if isinstance(values, list) else None
            made.append((f"{t(label)}: {t(value)}", link(**{key: rest, "page": None}), key))
    for key, label, _ in typed_filters():
        if query.get(key):
            made.append((f"{t(label)}: {query[key]}", link(**{key: None, "page": None}), key))
    if query.get("created_from") or query.get("created_to"):
        span = f"{query.get('created_from', '…')} – {query.get('created_to', '…')}"
        made.append((f"{t('Date')}: {span}", link(created_from=None, created_to=None, page=None), "created"))
    if query.get("disputed"):
        made.append((t("Disputed"), link(disputed=None, page=None), "disputed"))
    if query.get(SEARCH_PARAM):
        made.append((f"{t('Search')}: {query[SEARCH_PARAM]}", link(**{SEARCH_PARAM: None, "page": None}), "search"))
    return made


def sort_link(column_sort, current, link):
    """Where clicking a column's header goes, and how it is sorted now ('ascending', 'descending', None)."""
    if column_sort is None or column_sort not in SORTS:
        return None, None
    if current == column_sort:
        target, state = f"-{column_sort}", "ascending"
    elif current == f"-{column_sort}":
        target, state = column_sort, "descending"
    else:
        target = f"-{column_sort}" if column_sort in DESCENDING_FIRST else column_sort
        state = None
    if target not in SORTS:
        target = column_sort
    return link(sort=target, page=1), state


def template_values(page, query, link):
    """What orders.html needs beyond the result: filters, chips, columns, sort headers."""
    columns = columns_of(page.request.args)
    current = query.get("sort", "-created_at")
    headers = []
    for key, label, sort, css in COLUMNS:
        if key in columns:
            target, state = sort_link(sort, current, link)
            headers.append({"key": key, "label": label, "css": css, "sort_link": target, "sort_state": state})
    return {
        "columns": columns,
        "headers": headers,
        "all_columns": COLUMNS,
        "choice_filters": choice_filters(),
        "typed_filters": typed_filters(),
        "chips": chips(page.t, query, link),
        "search_param": SEARCH_PARAM,
        "search_label": SEARCH_LABEL,
        "offers_disputed": offered("disputed"),
        "reference_sort": sort_link("reference", current, link),
        "statuses": ORDER_STATUSES,
        "default_columns": DEFAULT_COLUMNS,
    }
