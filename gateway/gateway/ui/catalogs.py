"""Every string of the staff UI in German, French and Italian, read from gettext catalogs.

``locale/<language>/LC_MESSAGES/messages.po`` holds one entry per message: the msgid is the English
text (or an enum value: statuses, methods, mail kinds, roles, …), the msgstr its translation; the
English catalog gives the enum values a readable form. Translators edit the .po files with any
gettext tool; a test holds every language to the same messages and placeholders. Messages with
``{name}`` are filled in after translation.
"""

from pathlib import Path

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
TRANSLATED = ("de", "fr", "it")


def _read(language: str) -> dict[str, str]:
    with open(LOCALE_DIR / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return {message.id: message.string for message in read_po(po, locale=language) if message.id}


CATALOGS = {language: _read(language) for language in ("en", *TRANSLATED)}
ENGLISH = CATALOGS["en"]
# one row per message, in German's order: (de, fr, it); "" where a language lacks it
MESSAGES = {
    key: tuple(CATALOGS[language].get(key, "") for language in TRANSLATED)
    for key in {**CATALOGS["de"], **CATALOGS["fr"], **CATALOGS["it"]}
}
