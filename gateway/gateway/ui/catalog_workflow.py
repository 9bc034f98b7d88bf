"""Messages of the staff workflow pages (notes, filter chips, columns, saved views, exports of the
list), in the rows of ``catalogs.MESSAGES``: ``"English": (de, fr, it)``."""

MESSAGES = {
    # internal notes
    "Internal notes": ("Interne Notizen", "Notes internes", "Note interne"),
    "Notes are for staff only and never sent to the customer.": (
        "Notizen sind nur für das Team und gehen nie an den Kunden.",
        "Les notes sont réservées à l’équipe et ne sont jamais envoyées au client.",
        "Le note sono solo per il personale e non vengono mai inviate al cliente."),
    "New note": ("Neue Notiz", "Nouvelle note", "Nuova nota"),
    "Add note": ("Notiz hinzufügen", "Ajouter la note", "Aggiungi nota"),
    "Edit note": ("Notiz bearbeiten", "Modifier la note", "Modifica nota"),
    "Note": ("Notiz", "Note", "Nota"),
    "Save note": ("Notiz speichern", "Enregistrer la note", "Salva nota"),
    "No notes yet.": ("Noch keine Notizen.", "Aucune note pour l’instant.", "Ancora nessuna nota."),
    "The notes are not available right now.": (
        "Die Notizen sind gerade nicht verfügbar.", "Les notes ne sont pas disponibles pour le moment.",
        "Le note non sono disponibili al momento."),
    "edited {when}": ("bearbeitet {when}", "modifiée le {when}", "modificata il {when}"),
    "You can edit your note until {when}.": (
        "Sie können Ihre Notiz bis {when} bearbeiten.", "Vous pouvez modifier votre note jusqu’au {when}.",
        "Potete modificare la nota fino al {when}."),
    "Note added to order {reference}.": (
        "Notiz zu Bestellung {reference} hinzugefügt.", "Note ajoutée à la commande {reference}.",
        "Nota aggiunta all’ordine {reference}."),
    "Note on order {reference} saved.": (
        "Notiz zu Bestellung {reference} gespeichert.", "Note de la commande {reference} enregistrée.",
        "Nota dell’ordine {reference} salvata."),
    "Latest note": ("Neueste Notiz", "Dernière note", "Ultima nota"),
    # history action
    "note": ("Notiz", "note", "nota"),
}
