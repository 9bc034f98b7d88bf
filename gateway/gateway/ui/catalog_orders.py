"""The order detail's messages in the rows of ``catalogs.MESSAGES`` (``"English": (de, fr, it)``):
the page itself, the confirmations of its actions and what they did."""


def mailed_too(english, de, fr, it):
    """The rows of a confirmation and of the same one for when the customer is e-mailed too,
    from the question without its question mark in each language."""
    return {  # French sets a space before "?"
        english + "?": (de + "?", fr + " ?", it + "?"),
        english + " and e-mail {email}?": (
            de + " und {email} benachrichtigen?",
            fr + " et écrire à {email} ?",
            it + " e scrivere a {email}?",
        ),
    }


MESSAGES = {
    # order detail
    "Order": ("Bestellung", "Commande", "Ordine"),
    "Billing address": ("Rechnungsadresse", "Adresse de facturation", "Indirizzo di fatturazione"),
    "Shipping address": ("Lieferadresse", "Adresse de livraison", "Indirizzo di consegna"),
    "Lines": ("Positionen", "Lignes", "Righe"),
    "Article number": ("Artikelnummer", "Numéro d’article", "Numero articolo"),
    "Name": ("Name", "Nom", "Nome"),
    "Quantity": ("Menge", "Quantité", "Quantità"),
    "Unit price": ("Einzelpreis", "Prix unitaire", "Prezzo unitario"),
    "Line total": ("Positionstotal", "Total de la ligne", "Totale riga"),
    "Subtotal": ("Zwischentotal", "Sous-total", "Subtotale"),
    "Shipping": ("Versand", "Livraison", "Spedizione"),
    "Payment": ("Zahlung", "Paiement", "Pagamento"),
    "Method": ("Zahlungsart", "Mode de paiement", "Metodo"),
    "Provider": ("Anbieter", "Prestataire", "Fornitore"),
    "Amount": ("Betrag", "Montant", "Importo"),
    "PSP reference": ("PSP-Referenz", "Référence PSP", "Riferimento PSP"),
    "Refunds": ("Rückerstattungen", "Remboursements", "Rimborsi"),
    "Dunning level": ("Mahnstufe", "Niveau de rappel", "Livello di sollecito"),
    "Due date": ("Fällig am", "Échéance", "Scadenza"),
    "Dunning fees": ("Mahngebühren", "Frais de rappel", "Spese di sollecito"),
    "Open amount": ("Offener Betrag", "Montant ouvert", "Importo aperto"),
    "Overpaid": ("Überzahlt", "Payé en trop", "Pagato in eccesso"),
    "Payment reference": ("Zahlungsreferenz", "Référence de paiement", "Riferimento di pagamento"),
    "History": ("Verlauf", "Historique", "Cronologia"),
    "E-mails": ("E-Mails", "E-mails", "E-mail"),
    "Actions": ("Aktionen", "Actions", "Azioni"),
    "When": ("Wann", "Quand", "Quando"),
    "Who": ("Wer", "Qui", "Chi"),
    "Origin": ("Herkunft", "Origine", "Origine"),
    "Action": ("Aktion", "Action", "Azione"),
    "From": ("Von", "Du", "Dal"),
    "To": ("Bis", "Au", "Al"),
    "Reason": ("Grund", "Motif", "Motivo"),
    "E-mail": ("E-Mail", "E-mail", "E-mail"),
    "Recipient": ("Empfänger", "Destinataire", "Destinatario"),
    "Sender": ("Absender", "Expéditeur", "Mittente"),
    "No SMTP server is configured: every mail is kept here, in": (
        "Kein SMTP-Server eingerichtet: jede E-Mail wird hier aufbewahrt, in",
        "Aucun serveur SMTP n’est configuré : chaque e-mail est gardé ici, dans",
        "Nessun server SMTP configurato: ogni e-mail è conservata qui, in",
    ),
    "Subject": ("Betreff", "Objet", "Oggetto"),
    "Sent": ("Gesendet", "Envoyé", "Inviato"),
    "Error": ("Fehler", "Erreur", "Errore"),
    "Ship": ("Versenden", "Expédier", "Spedisci"),
    "Mark shipped": ("Als versendet markieren", "Marquer comme expédiée", "Segna come spedito"),
    "Tracking number": ("Sendungsnummer", "Numéro de suivi", "Numero di tracciamento"),
    "Cancel order": ("Bestellung stornieren", "Annuler la commande", "Annulla l’ordine"),
    "Change status": ("Status ändern", "Changer le statut", "Cambia stato"),
    "Dunning": ("Mahnung", "Rappel", "Sollecito"),
    "Send reminder": ("Mahnung senden", "Envoyer un rappel", "Invia sollecito"),
    "Level": ("Stufe", "Niveau", "Livello"),
    "Set payment status": ("Bezahlstatus setzen", "Définir le statut du paiement", "Imposta lo stato del pagamento"),
    "Note": ("Notiz", "Note", "Nota"),
    "Complete by hand": ("Manuell abschliessen", "Clore à la main", "Concludi a mano"),
    "Refund": ("Rückerstattung", "Remboursement", "Rimborso"),
    "Refund or void": ("Erstatten oder stornieren", "Rembourser ou annuler", "Rimborsa o annulla"),
    "Pause": ("Pausieren", "Mettre en pause", "Metti in pausa"),
    "Assign to session": ("Einer Sitzung zuweisen", "Attribuer à une session", "Assegna a una sessione"),
    "Session": ("Sitzung", "Session", "Sessione"),
    "Reassign to customer": ("Anderem Kunden zuordnen", "Attribuer à un autre client", "Assegna a un altro cliente"),
    "Customer id": ("Kunden-Nr. (ID)", "N° client (ID)", "N. cliente (ID)"),
    "External invoice number": ("Externe Rechnungsnummer", "Numéro de facture externe", "Numero di fattura esterno"),
    "Save": ("Speichern", "Enregistrer", "Salva"),
    "No e-mails yet.": ("Noch keine E-Mails.", "Pas encore d’e-mails.", "Ancora nessuna e-mail."),
    "with {file}": ("mit {file}", "avec {file}", "con {file}"),
    "sent without the invoice (not issued in time)": (
        "ohne die Rechnung versandt (nicht rechtzeitig ausgestellt)",
        "envoyé sans la facture (pas émise à temps)",
        "inviata senza la fattura (non emessa in tempo)",
    ),
    "Payment details are not available right now.": (
        "Zahlungsdetails sind gerade nicht verfügbar.",
        "Les détails du paiement ne sont pas disponibles pour le moment.",
        "I dettagli del pagamento non sono disponibili al momento.",
    ),
    "Some information is not available right now:": (
        "Einige Angaben sind gerade nicht verfügbar:",
        "Certaines informations ne sont pas disponibles pour le moment :",
        "Alcune informazioni non sono disponibili al momento:",
    ),
    "The service did not answer in time; the change may have been applied all the same. "
    "Check the order's history before trying again.": (
        "Der Dienst hat nicht rechtzeitig geantwortet; die Änderung wurde möglicherweise trotzdem ausgeführt. "
        "Prüfen Sie den Verlauf der Bestellung, bevor Sie es erneut versuchen.",
        "Le service n’a pas répondu à temps ; la modification a peut-être été appliquée quand même. "
        "Vérifiez l’historique de la commande avant de réessayer.",
        "Il servizio non ha risposto in tempo; la modifica potrebbe essere stata applicata comunque. "
        "Controllate la cronologia dell’ordine prima di riprovare.",
    ),
    "Money was captured: cancelling refunds it, so an admin cancels, or an accountant refunds first.": (
        "Es wurde Geld eingezogen: Stornieren erstattet es; ein Admin storniert, oder die Buchhaltung "
        "erstattet zuerst.",
        "De l’argent a été encaissé : l’annulation le rembourse ; un administrateur annule, ou la comptabilité "
        "rembourse d’abord.",
        "Il denaro è stato incassato: annullare lo rimborsa; annulla un amministratore, oppure la contabilità "
        "rimborsa prima.",
    ),
    "Not offered:": ("Nicht angeboten:", "Non proposé :", "Non offerto:"),
    "Capture": ("Einzug", "Encaissement", "Incasso"),
    "Dispute": ("Anfechtung", "Contestation", "Contestazione"),
    "evidence due": ("Belege fällig bis", "justificatifs dus le", "prove entro il"),
    "PSP events that do not fit this payment": (
        "PSP-Meldungen, die nicht zu dieser Zahlung passen",
        "Messages PSP qui ne correspondent pas à ce paiement",
        "Messaggi PSP che non corrispondono a questo pagamento",
    ),
    "Paused": ("Pausiert", "En pause", "In pausa"),
    "Manual completion": ("Manueller Abschluss", "Clôture manuelle", "Conclusione manuale"),
    "reason required": ("Grund erforderlich", "motif requis", "motivo richiesto"),
    "full amount": ("ganzer Betrag", "montant total", "importo intero"),
    # confirmations: what happens to which order, and whom it mails
    **mailed_too(
        "Mark order {reference} shipped",
        "Bestellung {reference} als versendet markieren",
        "Marquer la commande {reference} comme expédiée",
        "Segnare l’ordine {reference} come spedito",
    ),
    **mailed_too(
        "Set order {reference} to “{choice}”",
        "Bestellung {reference} auf «{choice}» setzen",
        "Passer la commande {reference} à « {choice} »",
        "Portare l’ordine {reference} a «{choice}»",
    ),
    **mailed_too(
        "Cancel order {reference}",
        "Bestellung {reference} stornieren",
        "Annuler la commande {reference}",
        "Annullare l’ordine {reference}",
    ),
    "Pause order {reference}?": (
        "Bestellung {reference} pausieren?",
        "Mettre la commande {reference} en pause ?",
        "Mettere in pausa l’ordine {reference}?",
    ),
    "Assign order {reference} to session “{choice}”?": (
        "Bestellung {reference} der Sitzung «{choice}» zuweisen?",
        "Attribuer la commande {reference} à la session « {choice} » ?",
        "Assegnare l’ordine {reference} alla sessione «{choice}»?",
    ),
    "Set the invoice number of order {reference} to “{choice}”?": (
        "Rechnungsnummer der Bestellung {reference} auf «{choice}» setzen?",
        "Fixer le numéro de facture de la commande {reference} à « {choice} » ?",
        "Impostare il numero di fattura dell’ordine {reference} a «{choice}»?",
    ),
    "Set the payment status of order {reference} to “{choice}”?": (
        "Bezahlstatus der Bestellung {reference} auf «{choice}» setzen?",
        "Passer le statut du paiement de la commande {reference} à « {choice} » ?",
        "Portare lo stato del pagamento dell’ordine {reference} a «{choice}»?",
    ),
    "Record reminder level {choice} for order {reference}?": (
        "Mahnstufe {choice} für Bestellung {reference} festhalten?",
        "Enregistrer le rappel de niveau {choice} pour la commande {reference} ?",
        "Registrare il sollecito di livello {choice} per l’ordine {reference}?",
    ),
    "Send reminder level {choice} for order {reference} to {email}?": (
        "Mahnung Stufe {choice} für Bestellung {reference} an {email} senden?",
        "Envoyer le rappel de niveau {choice} de la commande {reference} à {email} ?",
        "Inviare il sollecito di livello {choice} dell’ordine {reference} a {email}?",
    ),
    "Complete the payment of order {reference} by hand?": (
        "Zahlung der Bestellung {reference} manuell abschliessen?",
        "Clore à la main le paiement de la commande {reference} ?",
        "Concludere a mano il pagamento dell’ordine {reference}?",
    ),
    "Refund or void {choice} of order {reference}?": (
        "{choice} der Bestellung {reference} erstatten oder stornieren?",
        "Rembourser ou annuler {choice} de la commande {reference} ?",
        "Rimborsare o annullare {choice} dell’ordine {reference}?",
    ),
    "Move order {reference} from {name} ({count} orders) to the chosen customer?": (
        "Bestellung {reference} von {name} ({count} Bestellungen) zum gewählten Kunden verschieben?",
        "Déplacer la commande {reference} de {name} ({count} commandes) vers le client choisi ?",
        "Spostare l’ordine {reference} da {name} ({count} ordini) al cliente scelto?",
    ),
    "Merge {name} ({count} orders) into the chosen customer?": (
        "{name} ({count} Bestellungen) mit dem gewählten Kunden zusammenführen?",
        "Fusionner {name} ({count} commandes) avec le client choisi ?",
        "Unire {name} ({count} ordini) al cliente scelto?",
    ),
    "into {choice}?": ("mit {choice}?", "dans {choice} ?", "in {choice}?"),
    "to {choice}?": ("zu {choice}?", "vers {choice} ?", "a {choice}?"),
    "Set the selected orders to “{choice}”?": (
        "Ausgewählte Bestellungen auf «{choice}» setzen?",
        "Passer les commandes sélectionnées à « {choice} » ?",
        "Portare gli ordini selezionati a «{choice}»?",
    ),
    "Set the selected orders to “{choice}” and e-mail their customers?": (
        "Ausgewählte Bestellungen auf «{choice}» setzen und ihre Kunden benachrichtigen?",
        "Passer les commandes sélectionnées à « {choice} » et écrire à leurs clients ?",
        "Portare gli ordini selezionati a «{choice}» e scrivere ai loro clienti?",
    ),
    "Delete export job {name}?": (
        "Exportauftrag {name} löschen?",
        "Supprimer la tâche d’exportation {name} ?",
        "Eliminare l’esportazione pianificata {name}?",
    ),
    "Revoke API token {name}?": (
        "API-Token {name} widerrufen?",
        "Révoquer le jeton API {name} ?",
        "Revocare il token API {name}?",
    ),
    # what happened
    "Order {reference} shipped.": (
        "Bestellung {reference} versendet.",
        "Commande {reference} expédiée.",
        "Ordine {reference} spedito.",
    ),
    "Order {reference} shipped; shipping e-mail queued to {email}.": (
        "Bestellung {reference} versendet; Versand-E-Mail an {email} eingereiht.",
        "Commande {reference} expédiée ; e-mail d’expédition en file pour {email}.",
        "Ordine {reference} spedito; e-mail di spedizione in coda per {email}.",
    ),
    "Order {reference} cancelled.": (
        "Bestellung {reference} storniert.",
        "Commande {reference} annulée.",
        "Ordine {reference} annullato.",
    ),
    "Order {reference} cancelled; cancellation e-mail queued to {email}.": (
        "Bestellung {reference} storniert; Storno-E-Mail an {email} eingereiht.",
        "Commande {reference} annulée ; e-mail d’annulation en file pour {email}.",
        "Ordine {reference} annullato; e-mail di annullamento in coda per {email}.",
    ),
    "Order {reference} is now “{status}”.": (
        "Bestellung {reference} ist jetzt «{status}».",
        "La commande {reference} est maintenant « {status} ».",
        "L’ordine {reference} è ora «{status}».",
    ),
    "Order {reference} is now “{status}”; e-mail queued to {email}.": (
        "Bestellung {reference} ist jetzt «{status}»; E-Mail an {email} eingereiht.",
        "La commande {reference} est maintenant « {status} » ; e-mail en file pour {email}.",
        "L’ordine {reference} è ora «{status}»; e-mail in coda per {email}.",
    ),
    "Order {reference} paused.": (
        "Bestellung {reference} pausiert.",
        "Commande {reference} mise en pause.",
        "Ordine {reference} messo in pausa.",
    ),
    "Order {reference} assigned to session {session}.": (
        "Bestellung {reference} der Sitzung {session} zugewiesen.",
        "Commande {reference} attribuée à la session {session}.",
        "Ordine {reference} assegnato alla sessione {session}.",
    ),
    "Order {reference} now belongs to {name} ({number}).": (
        "Bestellung {reference} gehört jetzt zu {name} ({number}).",
        "La commande {reference} appartient maintenant à {name} ({number}).",
        "L’ordine {reference} appartiene ora a {name} ({number}).",
    ),
    "Invoice number of order {reference} set to {number}.": (
        "Rechnungsnummer der Bestellung {reference} auf {number} gesetzt.",
        "Numéro de facture de la commande {reference} fixé à {number}.",
        "Numero di fattura dell’ordine {reference} impostato a {number}.",
    ),
    "Payment status of order {reference} is now “{status}”.": (
        "Bezahlstatus der Bestellung {reference} ist jetzt «{status}».",
        "Le statut du paiement de la commande {reference} est maintenant « {status} ».",
        "Lo stato del pagamento dell’ordine {reference} è ora «{status}».",
    ),
    "Order {reference} is at reminder level {level}.": (
        "Bestellung {reference} ist auf Mahnstufe {level}.",
        "La commande {reference} est au niveau de rappel {level}.",
        "L’ordine {reference} è al livello di sollecito {level}.",
    ),
    "Order {reference} is at reminder level {level}; reminder e-mail queued to {email}.": (
        "Bestellung {reference} ist auf Mahnstufe {level}; Mahn-E-Mail an {email} eingereiht.",
        "La commande {reference} est au niveau de rappel {level} ; e-mail de rappel en file pour {email}.",
        "L’ordine {reference} è al livello di sollecito {level}; e-mail di sollecito in coda per {email}.",
    ),
    "Refund of order {reference} requested; payment status “{status}”.": (
        "Erstattung der Bestellung {reference} angefordert; Bezahlstatus «{status}».",
        "Remboursement de la commande {reference} demandé ; statut du paiement « {status} ».",
        "Rimborso dell’ordine {reference} richiesto; stato del pagamento «{status}».",
    ),
    "Customer {merged} merged into {number}.": (
        "Kunde {merged} mit {number} zusammengeführt.",
        "Client {merged} fusionné dans {number}.",
        "Cliente {merged} unito a {number}.",
    ),
    "Numbering saved: next reference {reference}, next invoice number {number}.": (
        "Nummerierung gespeichert: nächste Referenz {reference}, nächste Rechnungsnummer {number}.",
        "Numérotation enregistrée : prochaine référence {reference}, prochain numéro de facture {number}.",
        "Numerazione salvata: prossimo riferimento {reference}, prossimo numero di fattura {number}.",
    ),
    "User {name} created with role “{role}”.": (
        "Benutzer {name} mit Rolle «{role}» angelegt.",
        "Utilisateur {name} créé avec le rôle « {role} ».",
        "Utente {name} creato con il ruolo «{role}».",
    ),
}
