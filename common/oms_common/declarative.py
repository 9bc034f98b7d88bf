"""What the declarative models of every schema (each service's and the gateway's) start from."""

from typing import Any

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import DeclarativeBase

from .tables import Infrastructure, install_infrastructure

Id = BigInteger  # every surrogate key, and every column that points at one
Reference = String(40)  # an order's reference and every service's copy of it (oms_contracts.parts.MAX_ORDER_REFERENCE)
Language = String(2)  # a customer's or a user's language: de, fr, it, en


def schema_base() -> tuple[Any, Infrastructure]:
    """A declarative base of its own for one schema's tables (its metadata is what the schema's
    migrations and ``Database`` work from), with ``outbox`` and ``processed_events`` installed in
    that metadata beside them."""

    class Base(DeclarativeBase):
        pass

    return Base, install_infrastructure(Base.metadata)
