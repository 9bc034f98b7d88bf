"""Keyset paging of the order list: sort keys, signed cursors, page jumps without OFFSET over rows.

Every sort is a key ending in a unique column, all parts in one direction, so a row's key says
exactly where it stands and "the rows after this key" is one seek in the key's index. A cursor
is such a key, signed, with the sort and the filters it belongs to. A page number is turned into
the key of its first row by a scan over the key's index alone, from whichever end of the list is
nearer; the page itself is then the same seek a cursor makes.
"""

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, literal_column, select, tuple_

from oms_common.problems import ValidationFailed
from oms_contracts.orders.lists import LIST_SORT_FIELDS

from .models import Order

O = Order.__table__.c

SORT_KEYS = {
    "created_at": (O.created_at, O.id),
    "updated_at": (O.updated_at, O.id),
    "reference": (O.reference,),
    # orders without an invoice number sort first (ascending), as the empty string
    "invoice_number": (func.coalesce(O.invoice_number, literal_column("''")), O.id),  # ix_orders_invoice_sort
    "customer": (O.customer_name, O.id),
    "total": (O.total, O.id),
    "status": (O.status, O.created_at, O.id),
    "payment_status": (O.payment_status_rank, O.created_at, O.id),
}
assert set(SORT_KEYS) == set(LIST_SORT_FIELDS), "every sort the schema offers has a key here"

CURSOR_LIFETIME_SECONDS = 7 * 24 * 3600  # long enough for an ERP to walk a million orders
_FALLBACK_SECRET = secrets.token_bytes(32)  # without a setting: valid in this process only


class Sort:
    def __init__(self, name):
        self.name = name
        self.descending = name.startswith("-")
        self.columns = SORT_KEYS[name.lstrip("-")]

    def order_by(self, reverse=False):
        descending = self.descending != reverse
        return [column.desc() if descending else column.asc() for column in self.columns]

    def after(self, key, inclusive=False):
        """Rows after ``key`` in this sort (with ``inclusive``, from ``key`` on)."""
        row, value = tuple_(*self.columns), tuple_(*key)
        if self.descending:
            return row <= value if inclusive else row < value
        return row >= value if inclusive else row > value


def start_key(session, sort, conditions, skip, total):
    """The key of the row ``skip`` rows into the list: an index-only walk over keys from the
    nearer end of the list (``total`` rows long; None when its length is not known, then from
    the start). None: past the end."""
    if total is not None and skip >= total:
        return None
    from_end = total - 1 - skip if total is not None else skip
    reverse = from_end < skip
    row = session.execute(
        select(*sort.columns)
        .where(*conditions)
        .order_by(*sort.order_by(reverse=reverse))
        .offset(from_end if reverse else skip)
        .limit(1)
    ).first()
    return tuple(row) if row is not None else None


# ---------------------------------------------------------------- cursors


def _secret(setting):
    return setting.encode() if setting else _FALLBACK_SECRET


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def query_digest(params):
    """What a cursor is bound to: every filter (not the page, its size or the cursor)."""
    bound = {key: value for key, value in params.items() if key not in ("page", "page_size", "cursor")}
    text = json.dumps(bound, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _wire_value(value):
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, Decimal):
        return {"d": str(value)}
    return value


def _key_value(value):
    if isinstance(value, dict) and set(value) == {"t"}:
        return datetime.fromisoformat(value["t"])
    if isinstance(value, dict) and set(value) == {"d"}:
        return Decimal(value["d"])
    if isinstance(value, (int, str)) and not isinstance(value, bool):
        return value
    raise ValueError("not a key value")


def encode_cursor(secret, sort, digest, key, now=None):
    payload = {
        "s": sort.name,
        "q": digest,
        "k": [_wire_value(value) for value in key],
        "x": int((now or time.time()) + CURSOR_LIFETIME_SECONDS),
    }
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    signature = _b64(hmac.new(_secret(secret), body.encode(), hashlib.sha256).digest()[:18])
    return f"{body}.{signature}"


def _refuse(message):
    return ValidationFailed(message, {"cursor": [message]})


def decode_cursor(secret, token, sort, digest, now=None):
    """The key a cursor continues after; a forged, expired or foreign cursor is a 422 on ``cursor``."""
    body, _, signature = token.partition(".")
    expected = _b64(hmac.new(_secret(secret), body.encode(), hashlib.sha256).digest()[:18])
    if not signature or not hmac.compare_digest(signature, expected):
        raise _refuse("This cursor is not one this list gave out (or it was changed).")
    try:
        payload = json.loads(_unb64(body))
        key = tuple(_key_value(value) for value in payload["k"])
        expires = int(payload["x"])
    except (ValueError, KeyError, TypeError, binascii.Error, InvalidOperation):
        raise _refuse("This cursor cannot be read.") from None
    if expires < (now or time.time()):
        raise _refuse("This cursor has expired; start the walk again from the first page.")
    if payload.get("s") != sort.name or payload.get("q") != digest or len(key) != len(sort.columns):
        raise _refuse("This cursor belongs to another sort or other filters; use it with the same query.")
    return key
