"""English and German for every string of the UI; dates and money in the user's locale (Babel)."""
from datetime import datetime
from decimal import Decimal, InvalidOperation

from babel.dates import format_datetime
from babel.numbers import format_currency

LANGUAGES = {"en": "English", "de": "Deutsch"}
LOCALES = {"en": "en_GB", "de": "de_CH"}

GERMAN = {
    "Orders": "Bestellungen", "Customers": "Kunden", "Article report": "Artikel-Bestellungen",
    "Exports": "Exporte", "Settings": "Einstellungen", "Users": "Benutzer", "Sign out": "Abmelden",
    "Sign in": "Anmelden", "User name": "Benutzername", "Password": "Passwort", "Language": "Sprache",
    "Signed in as": "Angemeldet als", "Order management": "Bestellungsmanagement",
    "The sign-in failed: unknown user, wrong password, or too many attempts; try again in a moment.":
        "Die Anmeldung ist fehlgeschlagen: unbekannter Benutzer, falsches Passwort oder zu viele Versuche; "
        "bitte gleich noch einmal versuchen.",
    "Money was captured: cancelling refunds it, so an admin cancels, or an accountant refunds first.":
        "Es wurde Geld eingezogen: Stornieren erstattet es; ein Admin storniert, oder die Buchhaltung "
        "erstattet zuerst.",
    "Your session has expired; please sign in again.": "Ihre Sitzung ist abgelaufen; bitte neu anmelden.",
    "The form has expired; please try again.": "Das Formular ist abgelaufen; bitte erneut versuchen.",
    "Reference or invoice number": "Referenz- oder Rechnungsnummer", "Search": "Suchen", "Filter": "Filtern",
    "Status": "Status", "Payment status": "Bezahlstatus", "all": "alle", "Per page": "Pro Seite",
    "Reference": "Referenz", "Invoice number": "Rechnungsnummer", "Date": "Datum", "Customer": "Kunde",
    "Total": "Total", "Page": "Seite", "of": "von", "Go": "Los", "First": "Erste", "Previous": "Vorherige",
    "Next": "Nächste", "Last": "Letzte", "orders": "Bestellungen", "No orders found.": "Keine Bestellungen gefunden.",
    "Select": "Auswählen", "Select all": "Alle auswählen", "Change status of selected orders":
        "Status der ausgewählten Bestellungen ändern", "New status": "Neuer Status",
    "Notify customers": "Kunden benachrichtigen", "Notify the customer": "Kunden benachrichtigen",
    "Apply": "Anwenden", "Bulk change": "Sammeländerung",
    "changed": "geändert", "refused": "abgelehnt",
    "Billing address": "Rechnungsadresse", "Shipping address": "Lieferadresse", "Lines": "Positionen",
    "Article number": "Artikelnummer", "Name": "Name", "Quantity": "Menge", "Unit price": "Einzelpreis",
    "Line total": "Positionstotal", "Subtotal": "Zwischentotal", "Shipping": "Versand",
    "Payment": "Zahlung", "Method": "Zahlungsart", "Provider": "Anbieter", "Amount": "Betrag",
    "PSP reference": "PSP-Referenz", "Refunds": "Rückerstattungen", "Dunning level": "Mahnstufe",
    "History": "Verlauf", "E-mails": "E-Mails", "Actions": "Aktionen", "When": "Wann", "Who": "Wer",
    "Origin": "Herkunft", "Action": "Aktion", "From": "Von", "To": "Nach", "Reason": "Grund",
    "E-mail": "E-Mail", "Recipient": "Empfänger", "Subject": "Betreff", "Sent": "Gesendet", "Error": "Fehler",
    "Ship": "Versenden", "Mark shipped": "Als versendet markieren", "Tracking number": "Sendungsnummer",
    "Cancel order": "Bestellung stornieren", "Change status": "Status ändern",
    "Dunning": "Mahnung", "Send reminder": "Mahnung senden", "Level": "Stufe",
    "Set payment status": "Bezahlstatus setzen", "Note": "Notiz",
    "Complete by hand": "Manuell abschliessen", "Refund": "Rückerstattung", "Refund or void": "Erstatten oder stornieren",
    "Pause": "Pausieren", "Assign to session": "Einer Sitzung zuweisen", "Session": "Sitzung",
    "Reassign to customer": "Anderem Kunden zuordnen", "Customer id": "Kunden-Nr. (ID)",
    "External invoice number": "Externe Rechnungsnummer", "Save": "Speichern",
    "Are you sure?": "Sind Sie sicher?", "Done.": "Erledigt.", "No e-mails yet.": "Noch keine E-Mails.",
    "Payment details are not available right now.": "Zahlungsdetails sind gerade nicht verfügbar.",
    "Some information is not available right now:": "Einige Angaben sind gerade nicht verfügbar:",
    "The service did not answer in time; the change may have been applied all the same. "
    "Check the order's history before trying again.":
        "Der Dienst hat nicht rechtzeitig geantwortet; die Änderung wurde möglicherweise trotzdem ausgeführt. "
        "Prüfen Sie den Verlauf der Bestellung, bevor Sie es erneut versuchen.",
    "Not offered:": "Nicht angeboten:",
    "Orders of this customer": "Bestellungen dieses Kunden", "Merge into customer": "Zusammenführen mit Kunde",
    "Merge": "Zusammenführen", "Order count": "Anzahl Bestellungen", "Revenue": "Umsatz",
    "Name, e-mail or customer number": "Name, E-Mail oder Kundennummer", "No customers found.": "Keine Kunden gefunden.",
    "Article number or part of it": "Artikelnummer oder Teil davon", "Show": "Anzeigen",
    "Download CSV": "CSV herunterladen", "Totals": "Totale", "Numbering": "Nummerierung",
    "Order reference start": "Startnummer Bestellreferenz", "Invoice number start": "Startnummer Rechnung",
    "Invoice prefix": "Rechnungspräfix", "Generate invoice numbers": "Rechnungsnummern erzeugen",
    "Last reference issued": "Letzte vergebene Referenz", "Last invoice number issued":
        "Letzte vergebene Rechnungsnummer", "Next reference": "Nächste Referenz",
    "Next invoice number": "Nächste Rechnungsnummer", "Role": "Rolle", "Active": "Aktiv",
    "Create user": "Benutzer anlegen", "API tokens": "API-Tokens", "New API token": "Neues API-Token",
    "Token name": "Token-Name", "Create token": "Token erstellen", "Revoke": "Widerrufen",
    "Copy this token now; it is not shown again:": "Token jetzt kopieren; es wird nicht wieder angezeigt:",
    "Downloads": "Downloads", "Scheduled jobs": "Geplante Aufträge", "Past runs": "Letzte Läufe",
    "Not found.": "Nicht gefunden.", "You may not do this.": "Das dürfen Sie nicht.",
    "A service is not available right now; please try again shortly.":
        "Ein Dienst ist gerade nicht verfügbar; bitte gleich nochmals versuchen.",
    "open": "offen", "payment_pending": "Zahlung ausstehend", "new": "neu", "in_progress": "in Bearbeitung",
    "shipped": "versendet", "completed": "abgeschlossen", "cancelled": "storniert", "dunning_1": "Mahnung 1",
    "dunning_2": "Mahnung 2", "unpaid": "unbezahlt", "announced": "avisiert", "pending": "ausstehend",
    "authorized": "autorisiert", "paid": "bezahlt", "partially_refunded": "teilweise erstattet",
    "refunded": "erstattet", "failed": "fehlgeschlagen", "voided": "storniert (Zahlung)",
    "partially_paid": "teilweise bezahlt", "disputed": "angefochten", "Capture": "Einzug", "Dispute": "Anfechtung",
    "evidence due": "Belege fällig bis",
    "PSP events that do not fit this payment": "PSP-Meldungen, die nicht zu dieser Zahlung passen",
    "Newest first": "Neueste zuerst", "Oldest first": "Älteste zuerst", "Sort": "Sortierung",
    "Orders per page": "Bestellungen pro Seite", "Open orders": "Offene Bestellungen", "Detail": "Detail",
    "Version": "Version", "Yes": "Ja", "No": "Nein", "Delete": "Löschen", "Run now": "Jetzt ausführen",
    "Format": "Format", "Kind": "Art", "Target directory": "Zielverzeichnis", "Incremental": "Inkrementell",
    "Cron expression": "Cron-Ausdruck", "Create job": "Auftrag anlegen", "Started": "Gestartet",
    "Finished": "Beendet", "Rows": "Zeilen", "File": "Datei", "Job": "Auftrag",
    "Manual completion": "Manueller Abschluss", "reason required": "Grund erforderlich",
    "Paused": "Pausiert", "Customer number": "Kundennummer", "Skip to content": "Zum Inhalt springen",
}
ENGLISH = {
    "created": "created", "status_changed": "status changed", "submitted": "submitted",
    "lines_replaced": "lines changed", "paused": "paused", "assigned": "assigned to a session",
    "invoice_number_set": "invoice number set", "payment_status_changed": "payment status changed",
    "payment_status_stale": "late payment update ignored", "customer_reassigned": "reassigned to another customer",
    "customer_merged": "customers merged", "email_sent": "e-mail sent", "email_queued": "e-mail queued",
    "email_failed": "e-mail failed", "invoice": "invoice", "prepayment": "prepayment", "card": "card",
    "paypal": "PayPal", "cash_on_delivery": "cash on delivery",
    "payment_pending": "payment pending", "in_progress": "in progress", "dunning_1": "dunning 1",
    "dunning_2": "dunning 2", "partially_refunded": "partially refunded",
    "partially_paid": "partially paid",
}
GERMAN.update({
    "Order": "Bestellung", "created": "erstellt", "status_changed": "Status geändert", "submitted": "abgeschickt",
    "lines_replaced": "Positionen geändert", "paused": "pausiert", "assigned": "einer Sitzung zugewiesen",
    "invoice_number_set": "Rechnungsnummer gesetzt", "payment_status_changed": "Bezahlstatus geändert",
    "payment_status_stale": "verspätete Zahlungsmeldung ignoriert",
    "customer_reassigned": "anderem Kunden zugeordnet", "customer_merged": "Kunden zusammengeführt",
    "email_sent": "E-Mail gesendet", "email_queued": "E-Mail wartet", "email_failed": "E-Mail fehlgeschlagen",
    "invoice": "Rechnung", "prepayment": "Vorauskasse", "card": "Kreditkarte", "paypal": "PayPal",
    "cash_on_delivery": "Nachnahme", "sent": "gesendet", "queued": "wartend",
})
CATALOGS = {"en": ENGLISH, "de": GERMAN}


def translator(language):
    catalog = CATALOGS.get(language, {})

    def translate(message):
        return catalog.get(message, message)
    return translate


def format_when(value, language):
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return format_datetime(value, "short", tzinfo=value.tzinfo, locale=LOCALES.get(language, "en_GB"))


def format_money(amount, currency, language):
    if amount in (None, ""):
        return ""
    try:
        return format_currency(Decimal(str(amount)), currency or "CHF", locale=LOCALES.get(language, "en_GB"))
    except (InvalidOperation, ValueError):
        return str(amount)
