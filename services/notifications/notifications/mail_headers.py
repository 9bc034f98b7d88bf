"""Header safety: what of an order or a setting may end up in a mail header, and how.

Everything that ends up in a mail header goes through :func:`header_text` /
:func:`recipient_address` and is then set through ``email.headerregistry.Address``, which
encodes non-ASCII text and refuses CR/LF. Plain Python, like ``domain``.
"""

import re
from email.headerregistry import Address

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")
_SPACES = re.compile(r"\s{2,}")
_ADDR_SPEC = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


class NotificationError(Exception):
    """A mail that cannot be built; it is recorded as failed, not retried."""


def header_text(value: object, max_length: int = 200) -> str:
    """Text fit for a header (or a greeting): no control characters, no line breaks."""
    text = _CONTROL.sub(" ", str(value or ""))
    text = _SPACES.sub(" ", text).strip()
    return text[:max_length]


def split_address(value: str) -> tuple[str, str]:
    """``'Name <a@b>'`` or ``'a@b'`` as (name, addr_spec)."""
    value = header_text(value, 400)
    match = re.fullmatch(r"(.*?)\s*<([^<>]+)>", value)
    if match:
        return match.group(1).strip().strip('"'), match.group(2).strip()
    return "", value


def recipient_address(email: str | None, name: str = "") -> Address:
    """An ``Address`` for the customer; refuses anything that is not one plain mailbox."""
    email = (email or "").strip()
    if not _ADDR_SPEC.fullmatch(email) or len(email) > 254:
        raise NotificationError(f"Not a usable e-mail address: {header_text(email, 80)!r}")
    try:
        return Address(display_name=header_text(name), addr_spec=email)
    except (ValueError, IndexError) as error:
        raise NotificationError(f"Not a usable e-mail address: {header_text(email, 80)!r} ({error})") from None


def configured_address(value: str) -> Address | None:
    name, addr = split_address(value)
    if not addr:
        return None
    try:
        return Address(display_name=name, addr_spec=addr)
    except (ValueError, IndexError) as error:
        raise NotificationError(f"Misconfigured address {value!r}: {error}") from None
