"""What the documents say, in the four languages of the customers (de, fr, it, en)."""
LABELS = {
    "de": {
        "invoice": "Rechnung", "credit_note": "Gutschrift", "number": "Rechnungsnummer",
        "credit_number": "Gutschriftnummer", "corrects": "Korrigiert Rechnung", "date": "Rechnungsdatum",
        "credit_date": "Datum", "supplied_on": "Lieferdatum", "order": "Bestellung", "due": "Zahlbar bis",
        "customer_number": "Kundennummer", "vat_number": "MWST-Nr.", "position": "Pos.", "article": "Artikel",
        "description": "Bezeichnung", "quantity": "Menge", "unit_price": "Preis", "rate": "MWST",
        "amount": "Betrag", "shipping": "Versand", "tax_rate": "MWST-Satz", "net": "Netto", "tax": "MWST",
        "gross": "Brutto", "total": "Total", "prices_gross": "Preise inkl. MWST.",
        "prices_net": "Preise exkl. MWST.", "payment_method": "Zahlungsart", "reason": "Grund",
        "methods": {"invoice": "Rechnung", "prepayment": "Vorauskasse", "card": "Karte", "paypal": "PayPal"},
    },
    "fr": {
        "invoice": "Facture", "credit_note": "Note de crédit", "number": "Numéro de facture",
        "credit_number": "Numéro de note de crédit", "corrects": "Corrige la facture", "date": "Date de facture",
        "credit_date": "Date", "supplied_on": "Date de livraison", "order": "Commande", "due": "Payable jusqu'au",
        "customer_number": "Numéro de client", "vat_number": "N° TVA", "position": "Pos.", "article": "Article",
        "description": "Désignation", "quantity": "Quantité", "unit_price": "Prix", "rate": "TVA",
        "amount": "Montant", "shipping": "Livraison", "tax_rate": "Taux TVA", "net": "Net", "tax": "TVA",
        "gross": "Brut", "total": "Total", "prices_gross": "Prix TVA incluse.",
        "prices_net": "Prix hors TVA.", "payment_method": "Mode de paiement", "reason": "Motif",
        "methods": {"invoice": "Facture", "prepayment": "Paiement anticipé", "card": "Carte", "paypal": "PayPal"},
    },
    "it": {
        "invoice": "Fattura", "credit_note": "Nota di credito", "number": "Numero fattura",
        "credit_number": "Numero nota di credito", "corrects": "Corregge la fattura", "date": "Data fattura",
        "credit_date": "Data", "supplied_on": "Data di fornitura", "order": "Ordine", "due": "Pagabile entro il",
        "customer_number": "Numero cliente", "vat_number": "N. IVA", "position": "Pos.", "article": "Articolo",
        "description": "Descrizione", "quantity": "Quantità", "unit_price": "Prezzo", "rate": "IVA",
        "amount": "Importo", "shipping": "Spedizione", "tax_rate": "Aliquota IVA", "net": "Netto", "tax": "IVA",
        "gross": "Lordo", "total": "Totale", "prices_gross": "Prezzi IVA inclusa.",
        "prices_net": "Prezzi IVA esclusa.", "payment_method": "Modalità di pagamento", "reason": "Motivo",
        "methods": {"invoice": "Fattura", "prepayment": "Pagamento anticipato", "card": "Carta", "paypal": "PayPal"},
    },
    "en": {
        "invoice": "Invoice", "credit_note": "Credit note", "number": "Invoice number",
        "credit_number": "Credit note number", "corrects": "Corrects invoice", "date": "Invoice date",
        "credit_date": "Date", "supplied_on": "Date of supply", "order": "Order", "due": "Payable by",
        "customer_number": "Customer number", "vat_number": "VAT no.", "position": "Pos.", "article": "Article",
        "description": "Description", "quantity": "Quantity", "unit_price": "Price", "rate": "VAT",
        "amount": "Amount", "shipping": "Shipping", "tax_rate": "VAT rate", "net": "Net", "tax": "VAT",
        "gross": "Gross", "total": "Total", "prices_gross": "Prices include VAT.",
        "prices_net": "Prices exclude VAT.", "payment_method": "Payment method", "reason": "Reason",
        "methods": {"invoice": "Invoice", "prepayment": "Prepayment", "card": "Card", "paypal": "PayPal"},
    },
}


def labels(language):
    return LABELS.get(language) or LABELS["en"]


def language_of(order):
    language = (order or {}).get("language")
    return language if language in LABELS else "en"


def format_date(day, language):
    return day.strftime("%d.%m.%Y") if language != "en" else day.strftime("%d %b %Y")
