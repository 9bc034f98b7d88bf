"""Every template in every language, rendered with undefined variables as errors."""

import html
import re

import pytest

from notifications import domain, rendering
from tests.support import samples

# a footer with a line break and markup, which the HTML part must escape
SETTINGS = samples.teashop_mail_settings(footer="Teashop AG\nBahnhofstrasse 1 <8001>")

SUBJECTS = {
    ("order_confirmation", "de"): "Bestellbestätigung 100042 – Teashop",
    ("order_confirmation", "fr"): "Confirmation de commande 100042 – Teashop",
    ("order_confirmation", "it"): "Conferma d'ordine 100042 – Teashop",
    ("order_confirmation", "en"): "Order confirmation 100042 – Teashop",
    ("shipping_confirmation", "de"): "Ihre Bestellung 100042 wurde versandt",
    ("shipping_confirmation", "fr"): "Votre commande 100042 a été expédiée",
    ("shipping_confirmation", "it"): "Il suo ordine 100042 è stato spedito",
    ("shipping_confirmation", "en"): "Your order 100042 has been shipped",
    ("cancellation", "de"): "Stornierung Ihrer Bestellung 100042",
    ("cancellation", "fr"): "Annulation de votre commande 100042",
    ("cancellation", "it"): "Annullamento del suo ordine 100042",
    ("cancellation", "en"): "Cancellation of your order 100042",
    ("dunning_1", "de"): "Zahlungserinnerung zu Bestellung 100042",
    ("dunning_1", "fr"): "Rappel de paiement pour la commande 100042",
    ("dunning_1", "it"): "Promemoria di pagamento per l'ordine 100042",
    ("dunning_1", "en"): "Payment reminder for order 100042",
    ("dunning_2", "de"): "2. Mahnung zu Bestellung 100042",
    ("dunning_2", "fr"): "2e rappel pour la commande 100042",
    ("dunning_2", "it"): "2° sollecito per l'ordine 100042",
    ("dunning_2", "en"): "Second reminder for order 100042",
    ("payment_received", "de"): "Zahlungseingang für Bestellung 100042",
    ("payment_received", "fr"): "Paiement reçu pour la commande 100042",
    ("payment_received", "it"): "Pagamento ricevuto per l'ordine 100042",
    ("payment_received", "en"): "Payment received for order 100042",
}

# (greeting, a phrase only this kind's body has) per language
GREETING = {"de": "Guten Tag", "fr": "Bonjour", "it": "Buongiorno", "en": "Hello"}
PHRASE = {
    ("order_confirmation", "de"): "vielen Dank für Ihre Bestellung 100042 vom 27. November 2026",
    ("order_confirmation", "fr"): "merci pour votre commande 100042 du 27 novembre 2026",
    ("order_confirmation", "it"): "grazie per il suo ordine 100042 del 27 novembre 2026",
    ("order_confirmation", "en"): "thank you for your order 100042 of 27 November 2026",
    ("shipping_confirmation", "de"): "Sendungsnummer: TR-777",
    ("shipping_confirmation", "fr"): "Numéro de suivi : TR-777",
    ("shipping_confirmation", "it"): "Numero di tracciamento: TR-777",
    ("shipping_confirmation", "en"): "Tracking number: TR-777",
    ("cancellation", "de"): "Grund: Lieferant ausgefallen",
    ("cancellation", "fr"): "Motif : Lieferant ausgefallen",
    ("cancellation", "it"): "Motivo: Lieferant ausgefallen",
    ("cancellation", "en"): "Reason: Lieferant ausgefallen",
    ("dunning_1", "de"): "Offener Betrag: CHF\xa01'255.40",
    ("dunning_1", "fr"): "Montant dû : 1'255,40\xa0CHF",
    ("dunning_1", "it"): "Importo dovuto: CHF\xa01'255.40",
    ("dunning_1", "en"): "Amount due: CHF\xa01'255.40",
    ("dunning_2", "de"): "trotz unserer Zahlungserinnerung",
    ("dunning_2", "fr"): "malgré notre rappel",
    ("dunning_2", "it"): "nonostante il nostro promemoria",
    ("dunning_2", "en"): "despite our reminder",
    ("payment_received", "de"): "Ihre Zahlung von CHF\xa01'255.40 für die Bestellung 100042 erhalten",
    ("payment_received", "fr"): "votre paiement de 1'255,40\xa0CHF pour la commande 100042",
    ("payment_received", "it"): "il suo pagamento di CHF\xa01'255.40 per l'ordine 100042",
    ("payment_received", "en"): "your payment of CHF\xa01'255.40 for order 100042",
}


def the_order(language, name="Anna Muster"):
    return {
        "reference": "100042",
        "invoice_number": "RE-2026-17",
        "currency": "CHF",
        "payment_method": "invoice",
        "subtotal": "1247.40",
        "shipping_cost": "8.00",
        "total": "1255.40",
        "language": language,
        "created_at": "2026-11-27T08:00:00+00:00",
        "customer": {"email": "anna@example.com", "name": name},
        "billing_address": samples.address(street="Gasse 1"),
        "shipping_address": samples.address(company="Tee & Co", street="Gasse 1"),
        "lines": [
            samples.line(1, "A-100", "Teapot", 2, "619.95", "1239.90"),
            samples.line(2, "B-200", "Green tea", 1, "7.50", "7.50"),
        ],
    }


def request_for(kind, order):
    if kind == "payment_received":
        return domain.mail_for_payment_event(
            {"status": "paid", "amount": "1255.40", "currency": "CHF"}, order, frozenset(domain.KINDS)
        )
    if kind in ("dunning_1", "dunning_2"):
        level = int(kind[-1])
        event = {"level": level, "notify": True, "open_amount": order["total"], "fee": "0.00", "dunning_fees": "0.00"}
        return domain.mail_for_dunning_event(event, order, frozenset(domain.KINDS))
    event_type, event = {
        "order_confirmation": ("order_submitted", {}),
        "shipping_confirmation": ("order_shipped", {"notify": True, "tracking_number": "TR-777"}),
        "cancellation": ("order_cancelled", {"notify": True, "reason": "Lieferant ausgefallen"}),
    }[kind]
    return domain.mail_for_order_event(event_type, {"order": order, **event}, frozenset(domain.KINDS))


def render(kind, language, name="Anna Muster"):
    order = the_order(language, name)
    request = request_for(kind, order)
    assert request is not None and request.kind == kind
    _email, recipient_name = domain.recipient_of(order)
    return rendering.Renderer(strict=True).render(
        domain.TEMPLATE_OF[kind], language, rendering.template_context(request, SETTINGS, recipient_name)
    )


@pytest.mark.parametrize("kind, language", sorted(SUBJECTS))
def test_each_kind_in_each_language(kind, language):
    mail = render(kind, language)
    assert mail.subject == SUBJECTS[kind, language]
    for body in (mail.body_text, mail.body_html):
        assert f"{GREETING[language]} Anna Muster," in body
        assert "Teashop" in body and "CHE-123.456.789 MWST" in body
    assert PHRASE[kind, language] in mail.body_text
    assert PHRASE[kind, language] in html.unescape(re.sub(r"<[^>]+>", "", mail.body_html))
    assert f'<html lang="{language}">' in mail.body_html


def test_order_confirmation_lists_lines_and_totals():
    mail = render("order_confirmation", "de")
    assert "2 x Teapot (Artikel A-100) à CHF\xa0619.95 = CHF\xa01'239.90" in mail.body_text
    assert "Total: CHF\xa01'255.40" in mail.body_text and "Rechnungsnummer: RE-2026-17" in mail.body_text
    assert "<td>Teapot<br><small>A-100</small></td>" in mail.body_html


def test_html_is_escaped_and_text_is_left_alone():
    mail = render("shipping_confirmation", "en", name="<script>alert(1)</script>")
    assert "<script" not in mail.body_html
    assert "Hello &lt;script&gt;alert(1)&lt;/script&gt;," in mail.body_html
    assert "Tee &amp; Co" in mail.body_html and "Bahnhofstrasse 1 &lt;8001&gt;" in mail.body_html
    assert "Hello <script>alert(1)</script>," in mail.body_text and "Tee & Co" in mail.body_text


def test_undefined_variables_are_errors_in_strict_mode():
    from jinja2 import UndefinedError

    renderer = rendering.Renderer(strict=True)
    with pytest.raises(UndefinedError):
        renderer.render("shipping_confirmation", "de", {"shop": {"name": "x"}})


FEES = {
    "de": ("Rechnungsbetrag: CHF\xa01'255.40", "Mahngebühren: CHF\xa010.50", "Offener Betrag: CHF\xa01'265.90"),
    "fr": ("Montant de la facture : 1'255,40\xa0CHF", "Frais de rappel : 10,50\xa0CHF", "Montant dû : 1'265,90\xa0CHF"),
    "it": (
        "Importo della fattura: CHF\xa01'255.40",
        "Spese di sollecito: CHF\xa010.50",
        "Importo dovuto: CHF\xa01'265.90",
    ),
    "en": ("Invoice amount: CHF\xa01'255.40", "Reminder fees: CHF\xa010.50", "Amount due: CHF\xa01'265.90"),
}


@pytest.mark.parametrize("language", sorted(FEES))
def test_a_reminder_shows_the_amount_the_fees_and_the_open_amount_once_each(language):
    order = the_order(language, "Anna Muster")
    event = {
        "level": 2,
        "notify": True,
        "fee": "7.50",
        "dunning_fees": "10.50",
        "open_amount": "1265.90",
        "amount": "1255.40",
        "received": "0.00",
        "currency": "CHF",
    }
    request = domain.mail_for_dunning_event(event, order, frozenset(domain.KINDS))
    mail = rendering.Renderer(strict=True).render(
        "dunning", language, rendering.template_context(request, SETTINGS, "Anna Muster")
    )
    shown_html = html.unescape(re.sub(r"<[^>]+>", "", mail.body_html))
    for line in FEES[language]:
        assert mail.body_text.count(line) == 1, line
        assert shown_html.count(line) == 1, line
