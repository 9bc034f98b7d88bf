"""Staff pages of the documents service: the order's documents (panel and PDF download) and
the shop profile (admin only). Its words are its own catalog (``TEXTS``), in the four languages."""

import base64

from werkzeug.routing import Rule
from werkzeug.wrappers import Response

from oms_common.problems import NotFound, Problem, ValidationFailed
from oms_contracts.values import LANGUAGES as FOOTER_LANGUAGES

from .forms import number
from .page import shown_refusal

PROFILE_FIELDS = ("legal_name", "vat_number", "iban", "qr_iban")
ADDRESS_FIELDS = ("street", "house_number", "postal_code", "city", "country")
CONTACT_FIELDS = ("email", "phone", "website")
MAX_LOGO_UPLOAD = 2 * 1024 * 1024

TEXTS = {
    "de": {
        "Documents": "Dokumente",
        "No documents issued yet.": "Noch keine Dokumente ausgestellt.",
        "invoice": "Rechnung",
        "credit_note": "Gutschrift",
        "reminder": "Mahnung",
        "delivery_note": "Lieferschein",
        "Download PDF": "PDF herunterladen",
        "corrects": "korrigiert",
        "Shop profile": "Shop-Profil",
        "Legal name": "Firmenname",
        "Street": "Strasse",
        "House number": "Hausnummer",
        "Postal code": "PLZ",
        "City": "Ort",
        "Country": "Land",
        "VAT number": "MWST-Nummer",
        "E-mail": "E-Mail",
        "Phone": "Telefon",
        "Website": "Website",
        "IBAN": "IBAN",
        "QR-IBAN": "QR-IBAN",
        "Payment term (days)": "Zahlungsfrist (Tage)",
        "Logo (PNG or JPEG)": "Logo (PNG oder JPEG)",
        "Remove the logo": "Logo entfernen",
        "Invoice footer": "Rechnungsfuss",
        "Save": "Speichern",
        "Shop profile saved.": "Shop-Profil gespeichert.",
        "Settings": "Einstellungen",
    },
    "fr": {
        "Documents": "Documents",
        "No documents issued yet.": "Aucun document émis pour l'instant.",
        "invoice": "Facture",
        "credit_note": "Note de crédit",
        "reminder": "Rappel",
        "delivery_note": "Bulletin de livraison",
        "Download PDF": "Télécharger le PDF",
        "corrects": "corrige",
        "Shop profile": "Profil de la boutique",
        "Legal name": "Raison sociale",
        "Street": "Rue",
        "House number": "Numéro",
        "Postal code": "NPA",
        "City": "Localité",
        "Country": "Pays",
        "VAT number": "Numéro TVA",
        "E-mail": "E-mail",
        "Phone": "Téléphone",
        "Website": "Site web",
        "IBAN": "IBAN",
        "QR-IBAN": "QR-IBAN",
        "Payment term (days)": "Délai de paiement (jours)",
        "Logo (PNG or JPEG)": "Logo (PNG ou JPEG)",
        "Remove the logo": "Supprimer le logo",
        "Invoice footer": "Pied de facture",
        "Save": "Enregistrer",
        "Shop profile saved.": "Profil de la boutique enregistré.",
        "Settings": "Paramètres",
    },
    "it": {
        "Documents": "Documenti",
        "No documents issued yet.": "Nessun documento emesso finora.",
        "invoice": "Fattura",
        "credit_note": "Nota di credito",
        "reminder": "Sollecito",
        "delivery_note": "Bollettino di consegna",
        "Download PDF": "Scarica il PDF",
        "corrects": "corregge",
        "Shop profile": "Profilo del negozio",
        "Legal name": "Ragione sociale",
        "Street": "Via",
        "House number": "Numero civico",
        "Postal code": "NPA",
        "City": "Località",
        "Country": "Paese",
        "VAT number": "Numero IVA",
        "E-mail": "E-mail",
        "Phone": "Telefono",
        "Website": "Sito web",
        "IBAN": "IBAN",
        "QR-IBAN": "QR-IBAN",
        "Payment term (days)": "Termine di pagamento (giorni)",
        "Logo (PNG or JPEG)": "Logo (PNG o JPEG)",
        "Remove the logo": "Rimuovi il logo",
        "Invoice footer": "Piè di pagina della fattura",
        "Save": "Salva",
        "Shop profile saved.": "Profilo del negozio salvato.",
        "Settings": "Impostazioni",
    },
    "en": {
        "invoice": "Invoice",
        "credit_note": "Credit note",
        "reminder": "Payment reminder",
        "delivery_note": "Delivery note",
    },
}


def translator(language):
    catalog = TEXTS.get(language, {})
    return lambda message: catalog.get(message, message)


def order_documents(page, reference):
    """The order's documents for its detail page; an unreachable documents service shows none."""
    secondary = page.calls.secondary()  # the detail's short deadline for the parts it can do without
    documents = secondary.answer(secondary.ask("documents", "list_documents", reference))
    return None if secondary.unavailable else documents


def document_pdf(page, reference, document_id):
    page.require("read")
    if not document_id.isdigit() or len(document_id) > 18:
        raise NotFound("No such document.")
    document = page.calls("documents", "get_document", reference, int(document_id))
    return Response(
        base64.b64decode(document["content"]),
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{document["kind"]}-{document["id"]}.pdf"',
            "X-OMS-SHA256": document["sha256"],
            "Cache-Control": "no-store",
        },
    )


def _profile_body(form, files, current):
    body = {key: form.get(key, "").strip() or None for key in PROFILE_FIELDS}
    body["legal_name"] = body["legal_name"] or ""
    body["address"] = {key: form.get(key, "").strip() for key in ADDRESS_FIELDS}
    body["contact"] = {key: form.get(key, "").strip() for key in CONTACT_FIELDS}
    body["footer"] = {language: form.get(f"footer_{language}", "") for language in FOOTER_LANGUAGES}
    body["payment_term_days"] = number(form.get("payment_term_days"))
    upload = files.get("logo")
    if upload and upload.filename:
        data = upload.stream.read(MAX_LOGO_UPLOAD + 1)
        if len(data) > MAX_LOGO_UPLOAD:
            raise ValidationFailed("The logo is too large.", {"logo.data": ["Too large."]})
        body["logo"] = {"data": base64.b64encode(data).decode("ascii")}
    elif current and current.get("logo") and "remove_logo" not in form:
        body["logo"] = {"data": current["logo"]["data"]}  # kept as it is
    return body


def shop_profile(page):
    page.require("settings.write")
    try:
        current = page.calls("documents", "get_shop_profile")
    except NotFound:
        current = None
    error, done, shown = None, False, current or {}
    if page.request.method == "POST":
        form = page.request.form
        try:
            body = _profile_body(form, page.request.files, current)
            shown = page.calls("documents", "put_shop_profile", body, page.actor)
            done = True
        except Problem as problem:
            error = shown_refusal(problem)
            shown = {
                **shown,
                **{key: form.get(key, "") for key in PROFILE_FIELDS},
                "address": {key: form.get(key, "") for key in ADDRESS_FIELDS},
                "contact": {key: form.get(key, "") for key in CONTACT_FIELDS},
                "footer": {language: form.get(f"footer_{language}", "") for language in FOOTER_LANGUAGES},
                "payment_term_days": form.get("payment_term_days", ""),
            }
    return page.render_form("shop_profile.html", error, profile=shown, done=done, dt=translator(page.language))


def register(url_map, views, environment):
    url_map.add(Rule("/admin/orders/<reference>/documents/<document_id>.pdf", endpoint="document_pdf"))
    url_map.add(Rule("/admin/settings/shop-profile", endpoint="shop_profile", methods=["GET", "POST"]))
    views.update({"document_pdf": document_pdf, "shop_profile": shop_profile})
    environment.globals.update(order_documents=order_documents, documents_text=translator)
