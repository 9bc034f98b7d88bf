"""Messages of the staff workflow pages (notes, filter chips, columns, saved views, exports of the
list), in the rows of ``catalogs.MESSAGES``: ``"English": (de, fr, it)``."""

MESSAGES = {
    # internal notes
    "Internal notes": ("Interne Notizen", "Notes internes", "Note interne"),
    "Notes are for staff only and never sent to the customer.": (
        "Notizen sind nur für das Team und gehen nie an den Kunden.",
        "Les notes sont réservées à l’équipe et ne sont jamais envoyées au client.",
        "Le note sono solo per il personale e non vengono mai inviate al cliente.",
    ),
    "New note": ("Neue Notiz", "Nouvelle note", "Nuova nota"),
    "Add note": ("Notiz hinzufügen", "Ajouter la note", "Aggiungi nota"),
    "Edit note": ("Notiz bearbeiten", "Modifier la note", "Modifica nota"),
    "Save note": ("Notiz speichern", "Enregistrer la note", "Salva nota"),
    "No notes yet.": ("Noch keine Notizen.", "Aucune note pour l’instant.", "Ancora nessuna nota."),
    "The notes are not available right now.": (
        "Die Notizen sind gerade nicht verfügbar.",
        "Les notes ne sont pas disponibles pour le moment.",
        "Le note non sono disponibili al momento.",
    ),
    "edited {when}": ("bearbeitet {when}", "modifiée le {when}", "modificata il {when}"),
    "You can edit your note until {when}.": (
        "Sie können Ihre Notiz bis {when} bearbeiten.",
        "Vous pouvez modifier votre note jusqu’au {when}.",
        "Potete modificare la nota fino al {when}.",
    ),
    "Note added to order {reference}.": (
        "Notiz zu Bestellung {reference} hinzugefügt.",
        "Note ajoutée à la commande {reference}.",
        "Nota aggiunta all’ordine {reference}.",
    ),
    "Note on order {reference} saved.": (
        "Notiz zu Bestellung {reference} gespeichert.",
        "Note de la commande {reference} enregistrée.",
        "Nota dell’ordine {reference} salvata.",
    ),
    "Latest note": ("Neueste Notiz", "Dernière note", "Ultima nota"),
    # filter chips, sorting, columns
    "Search orders": ("Bestellungen durchsuchen", "Rechercher des commandes", "Cerca ordini"),
    "Country": ("Land", "Pays", "Paese"),
    "Currency": ("Währung", "Monnaie", "Valuta"),
    "Disputed": ("Beanstandet", "Contestée", "Contestato"),
    "Active filters": ("Aktive Filter", "Filtres actifs", "Filtri attivi"),
    "Remove filter {filter}": ("Filter {filter} entfernen", "Retirer le filtre {filter}", "Togli il filtro {filter}"),
    "Clear all filters": ("Alle Filter entfernen", "Retirer tous les filtres", "Togli tutti i filtri"),
    "Columns": ("Spalten", "Colonnes", "Colonne"),
    "Show columns": ("Spalten zeigen", "Afficher les colonnes", "Mostra colonne"),
    # saved views
    "Saved views": ("Gespeicherte Ansichten", "Vues enregistrées", "Viste salvate"),
    "All orders": ("Alle Bestellungen", "Toutes les commandes", "Tutti gli ordini"),
    "Opens when the list opens": ("Öffnet mit der Liste", "S’ouvre avec la liste", "Si apre con l’elenco"),
    "default": ("Standard", "par défaut", "predefinita"),
    "team": ("Team", "équipe", "squadra"),
    "Save as view": ("Als Ansicht speichern", "Enregistrer comme vue", "Salva come vista"),
    "Name of the view": ("Name der Ansicht", "Nom de la vue", "Nome della vista"),
    "Open the list with this view": (
        "Liste mit dieser Ansicht öffnen",
        "Ouvrir la liste avec cette vue",
        "Aprire l’elenco con questa vista",
    ),
    "Share with the team": ("Mit dem Team teilen", "Partager avec l’équipe", "Condividi con la squadra"),
    "Stop sharing": ("Nicht mehr teilen", "Ne plus partager", "Non condividere più"),
    "Save view": ("Ansicht speichern", "Enregistrer la vue", "Salva vista"),
    "Manage views": ("Ansichten verwalten", "Gérer les vues", "Gestisci viste"),
    "Rename": ("Umbenennen", "Renommer", "Rinomina"),
    "Show this list in it": (
        "Aktuelle Liste darin speichern",
        "Y enregistrer la liste actuelle",
        "Salvarvi l’elenco attuale",
    ),
    "Make default": ("Als Standard festlegen", "Définir par défaut", "Imposta come predefinita"),
    "No longer the default": ("Nicht mehr Standard", "Plus par défaut", "Non più predefinita"),
    "Delete view": ("Ansicht löschen", "Supprimer la vue", "Elimina vista"),
    "Delete the view “{name}”? Orders stay as they are.": (
        "Ansicht „{name}“ löschen? Die Bestellungen bleiben, wie sie sind.",
        "Supprimer la vue « {name} » ? Les commandes restent telles quelles.",
        "Eliminare la vista «{name}»? Gli ordini restano come sono.",
    ),
    "View “{name}” saved.": ("Ansicht „{name}“ gespeichert.", "Vue « {name} » enregistrée.", "Vista «{name}» salvata."),
    "View “{name}” now shows this list.": (
        "Ansicht „{name}“ zeigt jetzt diese Liste.",
        "La vue « {name} » montre maintenant cette liste.",
        "La vista «{name}» mostra ora questo elenco.",
    ),
    "View renamed to “{name}”.": (
        "Ansicht umbenannt in „{name}“.",
        "Vue renommée en « {name} ».",
        "Vista rinominata in «{name}».",
    ),
    "“{name}” opens when the list opens.": (
        "„{name}“ öffnet mit der Liste.",
        "« {name} » s’ouvre avec la liste.",
        "«{name}» si apre con l’elenco.",
    ),
    "“{name}” is no longer the default view.": (
        "„{name}“ ist nicht mehr die Standardansicht.",
        "« {name} » n’est plus la vue par défaut.",
        "«{name}» non è più la vista predefinita.",
    ),
    "View deleted.": ("Ansicht gelöscht.", "Vue supprimée.", "Vista eliminata."),
    "Unknown action.": ("Unbekannte Aktion.", "Action inconnue.", "Azione sconosciuta."),
    # export of the list
    "Export this list:": ("Diese Liste exportieren:", "Exporter cette liste :", "Esporta questo elenco:"),
    "Export the ticked orders": (
        "Angekreuzte Bestellungen exportieren",
        "Exporter les commandes cochées",
        "Esporta gli ordini spuntati",
    ),
    "Choose CSV or XML.": ("CSV oder XML wählen.", "Choisissez CSV ou XML.", "Scegliete CSV o XML."),
    "Tick the orders to export first.": (
        "Zuerst die zu exportierenden Bestellungen ankreuzen.",
        "Cochez d’abord les commandes à exporter.",
        "Spuntate prima gli ordini da esportare.",
    ),
    # the ticked orders' documents as one PDF
    "Download documents (PDF)": (
        "Dokumente herunterladen (PDF)",
        "Télécharger les documents (PDF)",
        "Scarica i documenti (PDF)",
    ),
    "Tick the orders whose documents you want first.": (
        "Zuerst die Bestellungen ankreuzen, deren Dokumente Sie herunterladen möchten.",
        "Cochez d’abord les commandes dont vous voulez télécharger les documents.",
        "Spuntate prima gli ordini di cui volete scaricare i documenti.",
    ),
    "None of the ticked orders has documents yet.": (
        "Keine der angekreuzten Bestellungen hat bisher Dokumente.",
        "Aucune des commandes cochées n’a encore de documents.",
        "Nessuno degli ordini spuntati ha ancora documenti.",
    ),
    "This list holds {total} orders; exported by their references it may hold at most {limit}. Narrow the "
    "filters, tick the orders, or export all orders matching the exports' filters (status, payment status, "
    "dates, reference or invoice number).": (
        "Diese Liste enthält {total} Bestellungen; über ihre Referenzen exportiert, darf sie höchstens {limit} "
        "enthalten. Filter einschränken, Bestellungen ankreuzen oder alle Bestellungen nach den Filtern des "
        "Exports (Status, Bezahlstatus, Daten, Referenz- oder Rechnungsnummer) exportieren.",
        "Cette liste compte {total} commandes ; exportée par ses références, elle peut en compter au plus "
        "{limit}. Affinez les filtres, cochez les commandes ou exportez toutes les commandes selon les filtres "
        "de l’exportation (statut, statut du paiement, dates, référence ou numéro de facture).",
        "Questo elenco contiene {total} ordini; esportato tramite i riferimenti, può contenerne al massimo "
        "{limit}. Restringete i filtri, spuntate gli ordini o esportate tutti gli ordini secondo i filtri "
        "dell’esportazione (stato, stato del pagamento, date, riferimento o numero di fattura).",
    ),
    "Export all orders matching those filters": (
        "Alle Bestellungen nach diesen Filtern exportieren",
        "Exporter toutes les commandes selon ces filtres",
        "Esporta tutti gli ordini secondo questi filtri",
    ),
    "Set up an export job": (
        "Exportauftrag einrichten",
        "Créer une tâche d’exportation",
        "Imposta un’esportazione pianificata",
    ),
    "This list holds no orders: there is nothing to export.": (
        "Diese Liste enthält keine Bestellungen: nichts zu exportieren.",
        "Cette liste ne compte aucune commande : rien à exporter.",
        "Questo elenco non contiene ordini: niente da esportare.",
    ),
    # history action
    "note": ("Notiz", "note", "nota"),
}
