"""The Swiss QR-bill of an invoice, made by the qrbill library (SIX implementation guidelines):
its payment part and receipt as SVG, and the payload the QR code carries."""

import io
import logging
import unicodedata

import zxingcpp
from qrbill import QRBill
from qrbill.bill import MM_TO_UU

from oms_common.payment_references import creditor_reference, qr_reference

from . import domain

log = logging.getLogger(__name__)
# where qrbill puts the QR code on the bill (mm from the bill's top left corner) and its size:
# 5 mm right of the receipt (62 mm), 61 of its SVG units down, 45.8 mm wide
SYMBOL_LEFT_MM, SYMBOL_TOP_MM, SYMBOL_SIZE_MM = 67.0, 61 / MM_TO_UU, 45.8
# letters without a decomposition into a base letter and an accent
_NO_DECOMPOSITION = {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i"}


def latin_text(value):
    """Text the QR-bill can carry: Windows-1252, else transliterated (Ł → L), else '?'."""
    shown = []
    for char in str(value):
        try:
            char.encode("cp1252")
            shown.append(char)
        except UnicodeEncodeError:
            plain = _NO_DECOMPOSITION.get(char) or unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode(
                "ascii"
            )
            shown.append(plain or "?")
    return "".join(shown)


class _SymbolDrawnApart:
    """Stands in for qrbill's QR image: its vector path (tens of thousands of segments) costs
    the PDF renderer most of an invoice's time, so the bill's SVG gets an empty path and the
    renderer draws the symbol's modules as rectangles in its place (``symbol_modules``)."""

    width = 1

    def save(self, buffer):
        buffer.write(b'<svg><path d="M0 0" /></svg>')


class _Bill(QRBill):
    def qr_image(self):
        return _SymbolDrawnApart()


def _latin(fields, strict=False):
    """The bill's text is drawn in the PDF core font and carried in the QR payload, which both
    take Latin letters only: text in another script is transliterated (the invoice above the
    bill shows it as written). With
    ``strict``, text that cannot be (a name in Arabic or Greek letters) is refused instead."""
    shown = {key: latin_text(value) if value else value for key, value in fields.items()}
    if strict:
        for key, value in shown.items():
            if value and value.count("?") > str(fields[key]).count("?"):
                raise ValueError(f"The debtor's {key} has letters the QR-bill cannot carry.")
    return shown


def _creditor(profile):
    address = profile["address"]
    return _latin(
        {
            "name": profile["legal_name"],
            "street": address["street"],
            "house_num": address.get("house_number") or "",
            "pcode": address["postal_code"],
            "city": address["city"],
            "country": address["country"],
        }
    )


def _debtor(address):
    name = " ".join(p for p in (address.get("first_name"), address.get("last_name")) if p) or address.get("company")
    return _latin(
        {
            "name": name,
            "street": address.get("street", ""),
            "pcode": address.get("postal_code", ""),
            "city": address.get("city", ""),
            "country": address.get("country", ""),
        },
        strict=True,
    )


def payment_reference(order_reference, on_qr_iban):
    """QRR with a QR-IBAN, SCOR (RF…) with an ordinary IBAN: what the bank statement brings back."""
    return qr_reference(order_reference) if on_qr_iban else creditor_reference(order_reference)


def qr_bill(order, profile, invoice_number, language):
    """A ``QRBill`` for the order, or None when it gets none (see domain.qr_bill_account)."""
    account = domain.qr_bill_account(
        profile, order.get("payment_method"), order.get("currency"), order.get("total") or "0"
    )
    if account is None:
        return None
    iban, on_qr_iban = account
    common = dict(
        account=iban,
        creditor=_creditor(profile),
        amount=str(order["total"]),
        currency=order["currency"],
        reference_number=payment_reference(order["reference"], on_qr_iban),
        additional_information=f"{invoice_number}",
        language=language if language != "en" else "en",
    )
    try:
        return _Bill(debtor=_debtor(order.get("billing_address") or {}), **common)
    except ValueError as error:
        # a debtor address the guidelines refuse: the payer fills in the blank field instead
        log.warning("QR-bill of order %s without debtor: %s", order["reference"], error)
        return _Bill(**common)


def svg(bill):
    buffer = io.StringIO()
    bill.as_svg(buffer)
    return buffer.getvalue()


def symbol_modules(bill):
    """The QR code of ``bill.qr_data()`` (error correction M, as the guidelines ask) as rows of
    booleans (True: dark module), encoded by zxing-cpp."""
    code = zxingcpp.create_barcode(bill.qr_data(), zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image = memoryview(code.to_image(scale=1, add_quiet_zones=False))
    return [[value == 0 for value in row] for row in image.tolist()]


def drawn(bill):
    """What the renderer draws of ``bill`` (or None): qrbill's payment part and receipt as SVG,
    and the QR code's modules with their place on it."""
    if bill is None:
        return None
    return svg(bill), symbol_modules(bill), (SYMBOL_LEFT_MM, SYMBOL_TOP_MM, SYMBOL_SIZE_MM)
