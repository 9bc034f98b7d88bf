"""The documents service's RPC language: the shop profile as the API sends and shows it, the documents
list, and the request for the documents of several orders merged into one PDF."""

import base64
import binascii
import re
from typing import Any, Final

from iso3166 import countries_by_alpha2
from marshmallow import Schema, ValidationError, fields, post_load, validate

from oms_common.fields import StrictSchema, text

from .parts import alike
from .values import DOCUMENT_KINDS, LANGUAGES

# the orders of one merged file: a page of the order list at most
MAX_MERGED_REFERENCES: Final = 200

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
COUNTRY = validate.OneOf(sorted(countries_by_alpha2), error="Use an ISO 3166 alpha-2 code such as CH.")


class ShopAddressSchema(StrictSchema):
    # structured as the QR-bill wants it (SIX 2.3: structured addresses only)
    street = text(70)
    house_number = text(16, required=False, load_default="")
    postal_code = text(16)
    city = text(35)
    country = fields.String(required=True, validate=COUNTRY)


def _email_or_empty(value: str) -> None:
    if value and not EMAIL.fullmatch(value):
        raise ValidationError("Not a valid e-mail address.")


class ContactSchema(StrictSchema):
    email = fields.String(load_default="", validate=[validate.Length(max=254), _email_or_empty])
    phone = text(40, required=False, load_default="")
    website = text(200, required=False, load_default="")


class LogoSchema(StrictSchema):
    """A PNG or JPEG, base64-encoded in ``data``; the service checks what it really is."""

    data = fields.String(required=True, validate=validate.Length(min=1, max=2_000_000))

    def decoded(self, value: str) -> bytes:
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError({"data": ["Not valid base64."]}) from None


class FooterSchema(StrictSchema):
    de = text(1000, required=False, multiline=True, load_default="")
    fr = text(1000, required=False, multiline=True, load_default="")
    it = text(1000, required=False, multiline=True, load_default="")
    en = text(1000, required=False, multiline=True, load_default="")


class ShopProfileSchema(StrictSchema):
    """The whole profile (PUT replaces it); VAT number and accounts are checked by the service."""

    legal_name = text(70)
    address = fields.Nested(ShopAddressSchema, required=True)
    vat_number = text(40, required=False, load_default=None, allow_none=True)
    contact = fields.Nested(ContactSchema, load_default=dict)
    logo = fields.Nested(LogoSchema, load_default=None, allow_none=True)
    iban = text(42, required=False, load_default=None, allow_none=True)
    qr_iban = text(42, required=False, load_default=None, allow_none=True)
    payment_term_days = fields.Integer(load_default=30, strict=True, validate=validate.Range(min=0, max=365))
    footer = fields.Nested(FooterSchema, load_default=dict)
    version = fields.Integer(strict=True)


class DocumentSchema(Schema):
    id = fields.Integer()
    kind, number, order_reference, language, currency = alike(5, fields.String)
    amount = fields.Decimal(as_string=True, places=2, allow_none=True)  # none on a delivery note
    corrects = fields.String(allow_none=True)
    created_at = fields.DateTime()
    sha256 = fields.String()


def _first_of_each(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


class MergedDocumentsSchema(StrictSchema):
    """The orders whose stored documents go into one PDF, in this order, and optionally only some
    kinds. A reference given twice counts once, where it came first (ticking an order twice is no
    mistake worth refusing); the limit counts the references as sent."""

    references = fields.List(
        text(40),
        required=True,
        validate=validate.Length(
            min=1, max=MAX_MERGED_REFERENCES, error=f"Give 1 to {MAX_MERGED_REFERENCES} order references."
        ),
    )
    kinds = fields.List(
        fields.String(validate=validate.OneOf(DOCUMENT_KINDS)),
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, error="Leave kinds out for every kind, or name at least one."),
    )

    @post_load
    def _collapse_duplicates(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["references"] = _first_of_each(data["references"])
        if data.get("kinds") is not None:
            data["kinds"] = _first_of_each(data["kinds"])
        return data


__all__ = [
    "LANGUAGES",
    "DOCUMENT_KINDS",
    "MAX_MERGED_REFERENCES",
    "ShopProfileSchema",
    "DocumentSchema",
    "MergedDocumentsSchema",
]
