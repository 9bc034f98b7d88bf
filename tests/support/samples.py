"""Sample data the tests and the benchmarks share: addresses and order lines as the orders service
dumps them into its events, and a valid Swiss shop profile.

Plain dictionaries, built anew on every call (a test may change what it gets); nothing here
touches the broker or the database.
"""

import base64
import io

VALID_CH_VAT = "CHE-109.322.551 MWST"
QR_IBAN = "CH4431999123000889012"
IBAN = "CH9300762011623852957"


def address(**overrides):
    """Anna Muster in Zürich, as an order carries its billing and shipping address."""
    return {
        "first_name": "Anna",
        "last_name": "Muster",
        "company": "",
        "street": "Bahnhofstrasse 1",
        "postal_code": "8001",
        "city": "Zürich",
        "country": "CH",
        "phone": "",
        **overrides,
    }


def invoice_address():
    """The billing address the invoice tests look for (as entered: no company, no phone)."""
    return {
        "first_name": "Anna",
        "last_name": "Muster",
        "street": "Seestrasse 5",
        "postal_code": "8002",
        "city": "Zürich",
        "country": "CH",
    }


def line(position, article_number, name, quantity, unit_price, line_total, **extra):
    """An order line as the orders service dumps it; ``extra`` e.g. its ``tax_rate``."""
    return {
        "position": position,
        "article_number": article_number,
        "name": name,
        "quantity": quantity,
        "unit_price": unit_price,
        "line_total": line_total,
        **extra,
    }


def teapot_and_tea():
    """The lines of the sample order: two teapots and a green tea, 47.40 in all."""
    return [line(1, "A-100", "Teapot", 2, "19.95", "39.90"), line(2, "B-200", "Green tea", 1, "7.50", "7.50")]


def teapot_and_tea_totals():
    """What the sample order's lines come to with shipping, on an invoice in CHF."""
    return {
        "payment_method": "invoice",
        "currency": "CHF",
        "subtotal": "47.40",
        "shipping_cost": "8.00",
        "total": "55.40",
    }


def png_bytes(width=40, height=20):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (20, 90, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def shop_profile(**overrides):
    """A shop profile the documents service accepts: Swiss VAT number, QR-IBAN, logo, footers."""
    profile = {
        "legal_name": "Teehaus Zürich AG",
        "address": {
            "street": "Bahnhofstrasse",
            "house_number": "1",
            "postal_code": "8001",
            "city": "Zürich",
            "country": "CH",
        },
        "vat_number": VALID_CH_VAT,
        "contact": {"email": "buchhaltung@teehaus.example", "phone": "+41 44 000 00 00", "website": ""},
        "logo": {"data": base64.b64encode(png_bytes()).decode("ascii")},
        "iban": IBAN,
        "qr_iban": QR_IBAN,
        "payment_term_days": 30,
        "footer": {
            "de": "Zahlbar innert 30 Tagen.",
            "fr": "Payable dans les 30 jours.",
            "it": "Pagabile entro 30 giorni.",
            "en": "Payable within 30 days.",
        },
    }
    profile.update(overrides)
    return profile


def teashop_mail_settings(**overrides):
    """The mail settings of the Teashop the mail samples speak for (sender, reply-to, footer)."""
    from notifications.domain import MailSettings  # only the callers that render mails need it

    return MailSettings(
        **{
            "sender": "Teashop <shop@teashop.example>",
            "reply_to": "help@teashop.example",
            "shop_name": "Teashop",
            "footer": "Teashop AG, Bahnhofstrasse 1, 8001 Zürich",
            "legal": "CHE-123.456.789 MWST",
            **overrides,
        }
    )
