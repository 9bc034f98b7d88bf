"""The documents' rules in plain Python: VAT numbers, bank accounts, logos, numbering, who
gets a QR-bill. No nameko, no SQLAlchemy."""

import io
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from stdnum import iban as iban_number
from stdnum.ch import vat as ch_vat
from stdnum.de import vat as de_vat
from stdnum.exceptions import ValidationError as NumberInvalid

LOGO_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}
LOGO_MAX_PIXELS = 2000
# the IID range (positions 5-9 of a Swiss/Liechtenstein IBAN) that marks a QR-IBAN
QR_IID = range(30000, 32000)
QR_BILL_COUNTRIES = ("CH", "LI")
QR_BILL_CURRENCIES = ("CHF", "EUR")
QR_BILL_METHODS = ("invoice", "prepayment")
QR_BILL_MAX_AMOUNT = Decimal("999999999.99")  # the guidelines' largest amount
# an amount as an order or a row carries it (read through str)
Amount = Decimal | int | str


class Refused(ValueError):
    """A value the rules refuse; ``field`` names it for the caller's problem response."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def vat_number(value: str) -> str:
    """A Swiss UID-MWST number (CHE-123.456.789 MWST) or a German USt-IdNr. (DE123456789),
    normalised to its official way of writing; anything else is refused."""
    given = value.strip()
    if given.upper().startswith("CHE"):
        try:
            return ch_vat.format(ch_vat.validate(given))
        except NumberInvalid:
            raise Refused("vat_number", "Not a valid Swiss VAT number (CHE-123.456.789 MWST).") from None
    if given.upper().startswith("DE"):
        try:
            return "DE" + de_vat.validate(given)
        except NumberInvalid:
            raise Refused("vat_number", "Not a valid German VAT identification number (DE123456789).") from None
    raise Refused("vat_number", "Give a Swiss (CHE-…MWST) or German (DE…) VAT number.")


def is_qr_iban(compact: str) -> bool:
    return compact[:2] in QR_BILL_COUNTRIES and compact[4:9].isdigit() and int(compact[4:9]) in QR_IID


def bank_account(value: str, field: str, qr: bool) -> str:
    """An IBAN (``qr`` False) or a QR-IBAN (``qr`` True) in its compact form, or refused."""
    try:
        compact = iban_number.validate(value)
    except NumberInvalid:
        raise Refused(field, "Not a valid IBAN (check digits or length).") from None
    if qr and not is_qr_iban(compact):
        raise Refused(field, "Not a QR-IBAN: a Swiss or Liechtenstein IBAN with an IID from 30000 to 31999.")
    if not qr and is_qr_iban(compact):
        raise Refused(field, "This is a QR-IBAN; give it as qr_iban (it only takes QR references).")
    return compact


def format_iban(compact: str) -> str:
    return iban_number.format(compact)


def logo_facts(data: bytes, max_bytes: int) -> tuple[str, int, int]:
    """(content type, width, height) of a PNG or JPEG logo within the limits, or refused.

    The bytes are opened and verified by Pillow: a file that only claims to be an image, or
    one that unpacks into a huge bitmap, never reaches the renderer."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > max_bytes:
        raise Refused("logo.data", f"The logo may have at most {max_bytes} bytes; it has {len(data)}.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, (width, height) = image.format, image.size
            if width > LOGO_MAX_PIXELS or height > LOGO_MAX_PIXELS:
                raise Refused("logo.data", f"The logo may be at most {LOGO_MAX_PIXELS}×{LOGO_MAX_PIXELS} pixels.")
            image.verify()
    except Refused:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Exception):  # noqa: BLE001 - untrusted bytes:
        # whatever the image parser trips over, the upload is not a readable image
        raise Refused("logo.data", "Not a readable PNG or JPEG image.") from None
    if kind not in LOGO_TYPES:
        raise Refused("logo.data", "Only PNG and JPEG logos are accepted.")
    return LOGO_TYPES[kind], width, height


def due_date(issued_on: date, payment_term_days: int) -> date:
    return issued_on + timedelta(days=payment_term_days)


def qr_bill_account(
    profile: Mapping[str, Any], payment_method: str | None, currency: str | None, amount: Amount = "1.00"
) -> tuple[str, bool] | None:
    """The account a QR-bill pays into (and whether it is a QR-IBAN), or None when the order
    gets no QR-bill: only invoice and prepayment orders in CHF or EUR with something to pay
    (up to the guidelines' largest amount), and only with a Swiss or Liechtenstein account."""
    if payment_method not in QR_BILL_METHODS or currency not in QR_BILL_CURRENCIES:
        return None
    if not Decimal("0") < Decimal(str(amount)) <= QR_BILL_MAX_AMOUNT:
        return None
    if profile.get("qr_iban"):
        return profile["qr_iban"], True
    account = profile.get("iban")
    if account and account[:2] in QR_BILL_COUNTRIES:
        return account, False
    return None


def next_number(prefix: str, last_issued: int) -> tuple[str, int]:
    """The next number of a gapless range and the new last issued value."""
    issued = int(last_issued) + 1
    return f"{prefix}{issued}", issued


def money(value: Amount) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))
