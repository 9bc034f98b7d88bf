"""The audit tables of the services (orders' ``order_history``, payments' ``payment_audit``):
what every entry records of a change, and how an entry is made."""

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy import Column, DateTime, String, Text

from .audit import audit_columns

Entry = TypeVar("Entry")


def audit_entry_columns() -> list[Column[Any]]:
    """When, who, what kind of actor, through which way in (``audit_columns``), then what happened:
    the action, the status before and after, why. In this order in every audit table, after the
    entry's own key and what it is about; a table adds its ``details`` (and more) after them."""
    return [
        Column("at", DateTime(timezone=True), nullable=False),
        Column("actor", String(120), nullable=False),
        Column("actor_kind", String(20), nullable=False),
        Column("origin", String(200), nullable=False),
        Column("action", String(40), nullable=False),
        Column("from_status", String(20)),
        Column("to_status", String(20)),
        Column("reason", Text),
    ]


def audit_entry(
    entry: Callable[..., Entry],
    actor: Mapping[str, Any],
    action: str,
    from_status: str | None = None,
    to_status: str | None = None,
    reason: str | None = None,
    details: Mapping[str, Any] | None = None,
    **subject: Any,
) -> Entry:
    """One audit entry (``entry`` is the table's mapped class) of what ``actor`` did, about
    ``subject`` (the columns naming what changed, e.g. ``order_id=…``)."""
    return entry(
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        details=details,
        **subject,
        **audit_columns(actor),
    )
