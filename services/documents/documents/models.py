"""The documents service's tables (its own schema; no other service reads them)."""

import sqlalchemy as sa

from oms_common.declarative import Id, Language, Reference, schema_base
from oms_common.indexes import unique_where

Base, infrastructure = schema_base()


class ShopProfile(Base):
    """The one shop profile (``id`` is always 1): who issues the documents.

    ``data`` is the validated profile as the API shows it (without the logo's bytes, which
    live in ``logo``); ``version`` grows with each change.
    """

    __tablename__ = "shop_profile"
    id = sa.Column(sa.Integer, primary_key=True)
    data = sa.Column(sa.JSON, nullable=False)
    logo = sa.Column(sa.LargeBinary)
    version = sa.Column(sa.Integer, nullable=False, default=1)
    updated_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    updated_by = sa.Column(sa.String(120), nullable=False)


class Document(Base):
    """An issued document: rendered once, its bytes and their SHA-256 never change.

    One invoice and one delivery note per order (partial unique indexes); a credit note names the
    invoice it corrects in ``corrects_id``. ``source_event_id`` is the event that made it (one
    document per event). ``amount`` is empty on a delivery note, which names no money.
    """

    __tablename__ = "documents"
    id = sa.Column(Id, primary_key=True, autoincrement=True)
    order_reference = sa.Column(Reference, nullable=False)
    kind = sa.Column(sa.String(20), nullable=False)
    number = sa.Column(sa.String(80), nullable=False)
    language = sa.Column(Language, nullable=False)
    currency = sa.Column(sa.String(3), nullable=False)
    amount = sa.Column(sa.Numeric(14, 2))
    corrects_id = sa.Column(Id, sa.ForeignKey("documents.id"))
    source_event_id = sa.Column(sa.String(64), nullable=False, unique=True)
    content = sa.Column(sa.LargeBinary, nullable=False)
    # the order as the document showed it (an invoice's: what its credit notes correct)
    order_data = sa.Column(sa.JSON, nullable=False)
    sha256 = sa.Column(sa.String(64), nullable=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)

    __table_args__ = (
        sa.Index("ix_documents_order", "order_reference", "id"),
        unique_where("uq_documents_invoice_per_order", "order_reference", where="kind = 'invoice'"),
        unique_where("uq_documents_delivery_note_per_order", "order_reference", where="kind = 'delivery_note'"),
        sa.Index("uq_documents_kind_number", "kind", "number", unique=True),
    )


class AwaitingProfile:
    """An order whose document waits for the shop profile (nobody to issue it yet): kept with the
    order as its event told it, and issued as soon as the profile is saved."""

    order_reference = sa.Column(Reference, primary_key=True)
    event_id = sa.Column(sa.String(64), nullable=False)
    order_data = sa.Column(sa.JSON, nullable=False)
    received_at = sa.Column(sa.DateTime(timezone=True), nullable=False)


class InvoiceAwaitingProfile(AwaitingProfile, Base):
    """An order whose invoice waits for the shop profile."""

    __tablename__ = "invoices_awaiting_profile"


class DeliveryNoteAwaitingProfile(AwaitingProfile, Base):
    """A shipped order whose delivery note waits for the shop profile."""

    __tablename__ = "delivery_notes_awaiting_profile"


class NumberRange(Base):
    """A gapless number range of this service (``credit_note``: CN-1, …; ``delivery_note``:
    DN-1, …): the row lock taken to draw the next number is held until the document is
    committed, so a rolled-back issue leaves no gap."""

    __tablename__ = "number_ranges"
    name = sa.Column(sa.String(20), primary_key=True)
    prefix = sa.Column(sa.String(20), nullable=False, default="")
    last_issued = sa.Column(sa.BigInteger, nullable=False, default=0)


metadata = Base.metadata
