"""Jinja2 rendering of the mail templates (plain Python, no framework).

Templates live in ``templates/<language>/<template>.txt`` and ``.html``. The text template
defines the subject in ``{% block subject %}``. Autoescaping is on for HTML templates
(plain text is not HTML, so escaping it would only garble names such as ``A & B``); with
``strict=True`` an undefined variable raises instead of rendering as empty text, which the
tests switch on.
"""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from jinja2 import ChainableUndefined, Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from markupsafe import Markup, escape

from . import domain, mail_headers

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
LOCALES = {"de": "de_CH", "fr": "fr_CH", "it": "it_CH", "en": "en_CH"}


@dataclass
class RenderedMail:
    subject: str
    body_text: str
    body_html: str


@pass_context
def _money(context, value, currency=None):
    amount = domain.to_decimal(value)
    if amount is None:
        return ""
    locale = LOCALES.get(context.get("language"), "en_CH")
    currency = currency or context.get("currency")
    if currency:
        return format_currency(amount, currency, locale=locale)
    return format_decimal(amount, format="#,##0.00", locale=locale)


@pass_context
def _date(context, value):
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return format_date(value, format="long", locale=LOCALES.get(context.get("language"), "en_CH"))


def _nl2br(value):
    """Line breaks of escaped text as <br> (for configured footer and legal lines)."""
    return Markup("<br>\n").join(escape(line) for line in str(value or "").splitlines())


class Renderer:
    def __init__(self, template_dir=TEMPLATE_DIR, strict=False):
        self.env = Environment(
            loader=FileSystemLoader(str(template_dir)),
            autoescape=select_autoescape(
                enabled_extensions=("html",), disabled_extensions=("txt",), default_for_string=True, default=True
            ),
            undefined=StrictUndefined if strict else ChainableUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters["money"] = _money
        self.env.filters["date"] = _date
        self.env.filters["nl2br"] = _nl2br

    def render(self, template, language, context):
        context = dict(context, language=language)
        text_template = self.env.get_template(f"{language}/{template}.txt")
        subject = "".join(text_template.blocks["subject"](text_template.new_context(context))).strip()
        subject = mail_headers.header_text(subject, 300)
        context["subject"] = subject
        body_text = text_template.render(context)
        body_html = self.env.get_template(f"{language}/{template}.html").render(context)
        return RenderedMail(subject, body_text, body_html)


ADDRESS_FIELDS = ("first_name", "last_name", "company", "street", "postal_code", "city", "country", "phone")


def _address(address):
    if not address:
        return {}
    return {key: address.get(key) or "" for key in ADDRESS_FIELDS}


def _nonzero(value):
    return value if domain.to_decimal(value) else None


def template_context(request, settings, recipient_name):
    """The variables every template gets: the shop, the customer, the order and the extras."""
    order = request.order
    lines = order.get("lines") or []
    return {
        "shop": {
            "name": settings.shop_name,
            "footer": settings.footer,
            "legal": settings.legal,
            "reply_to": mail_headers.split_address(settings.reply_to)[1] if settings.reply_to else "",
        },
        "customer_name": recipient_name,
        "order": {
            "reference": order.get("reference") or "",
            "invoice_number": order.get("invoice_number") or "",
            "created_at": order.get("created_at") or "",
            "payment_method": order.get("payment_method") or "",
            "subtotal": order.get("subtotal"),
            "shipping_cost": order.get("shipping_cost"),
            "total": order.get("total"),
            "lines": [
                {
                    "position": line.get("position"),
                    "article_number": line.get("article_number") or "",
                    "name": line.get("name") or "",
                    "quantity": line.get("quantity"),
                    "unit_price": line.get("unit_price"),
                    "line_total": line.get("line_total"),
                }
                for line in lines
            ],
            "shipping_address": _address(order.get("shipping_address") or order.get("billing_address")),
        },
        "currency": order.get("currency") or "CHF",
        "tracking_number": request.extra.get("tracking_number") or "",
        "reason": request.extra.get("reason") or "",
        "level": request.extra.get("level") or 0,
        "open_amount": request.extra.get("open_amount"),
        "amount": request.extra.get("amount"),
        # a reminder: this level's fee, the fees of all levels, what came in already (None: nothing)
        "fee": _nonzero(request.extra.get("fee")),
        "fees": _nonzero(request.extra.get("dunning_fees")),
        "received": _nonzero(request.extra.get("received")),
        "payment_currency": request.extra.get("currency") or order.get("currency") or "CHF",
    }
