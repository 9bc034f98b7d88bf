"""The staff UI in German, French, Italian and English; dates, times and money per locale (Babel).

Times are shown in the shop's time zone (``SHOP_TIMEZONE``) with four-digit years; dates are typed
in the locale's order (``31.12.2026``; Italian ``31/12/2026``) and read back here.
"""

import logging
import re
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_skeleton, format_time
from babel.numbers import format_currency

from oms_common.settings import setting
from oms_contracts import values

from .catalogs import CATALOGS

NATIVE_NAMES = {"de": "Deutsch", "fr": "Français", "it": "Italiano", "en": "English"}
LANGUAGES = {code: NATIVE_NAMES[code] for code in values.LANGUAGES}
# Swiss variants: the shop's customers and staff are in Switzerland (CHF 24.90, 01.12.2026)
LOCALES = {"en": "en_CH", "de": "de_CH", "fr": "fr_CH", "it": "it_CH"}
DEFAULT_ZONE = "Europe/Zurich"
# what the letters of a date pattern are called in each language
PATTERN_LETTERS = {
    "en": ("DD", "MM", "YYYY"),
    "de": ("TT", "MM", "JJJJ"),
    "fr": ("JJ", "MM", "AAAA"),
    "it": ("GG", "MM", "AAAA"),
}
# reasons the services write in English for the history (matched whole, translated with their number)
KNOWN_REASONS = (re.compile(r"^Dunning level (?P<level>\d)\.$"), "Dunning level {level}.")
log = logging.getLogger(__name__)


class _Keep(dict):
    # a placeholder not given here stays for the browser to fill ("{choice}": what was picked)
    def __missing__(self, key):
        return "{" + key + "}"


def translator(language):
    catalog = CATALOGS.get(language, {})

    def translate(message, **values):
        text = catalog.get(message, message)
        return text.format_map(_Keep(values)) if values else text

    return translate


def shop_zone(settings):
    name = setting(settings, "SHOP_TIMEZONE", "gateway") or DEFAULT_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown SHOP_TIMEZONE %r; showing times in %s", name, DEFAULT_ZONE)
        return ZoneInfo(DEFAULT_ZONE)


def _as_datetime(value):
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)  # the services store UTC
    return value


def format_when(value, language, zone=None):
    """``01.12.2026 23:49`` in the shop's zone; a plain date stays a date."""
    if not value:
        return ""
    locale = LOCALES.get(language, "en_CH")
    if isinstance(value, str) and len(value) == 10:
        try:
            return format_skeleton("yMMdd", date.fromisoformat(value), locale=locale)
        except ValueError:
            return value
    moment = _as_datetime(value)
    if moment is None:
        return str(value)
    local = moment.astimezone(zone or ZoneInfo(DEFAULT_ZONE))
    return f"{format_skeleton('yMMdd', local, locale=locale)} {format_time(local, 'short', locale=locale)}"


def format_money(amount, currency, language):
    if amount in (None, ""):
        return ""
    try:
        return format_currency(Decimal(str(amount)), currency or "CHF", locale=LOCALES.get(language, "en_CH"))
    except (InvalidOperation, ValueError):
        return str(amount)


def _date_order(language):
    """The separator and the order of day, month, year in this locale's numeric date."""
    sample = format_skeleton("yMMdd", date(2026, 12, 31), locale=LOCALES.get(language, "en_CH"))
    separator = re.sub(r"\d", "", sample)[:1] or "."
    parts = sample.split(separator)
    order = ["d" if p == "31" else "m" if p == "12" else "y" for p in parts]
    return separator, order


def date_pattern(language):
    """What a date input expects, in the language's letters: ``TT.MM.JJJJ``."""
    separator, order = _date_order(language)
    day, month, year = PATTERN_LETTERS.get(language, PATTERN_LETTERS["en"])
    return separator.join({"d": day, "m": month, "y": year}[p] for p in order)


def format_date_input(value, language):
    """An ISO date (as the services take it) in the locale's order, for a date field."""
    if not value:
        return ""
    try:
        return format_skeleton("yMMdd", date.fromisoformat(value), locale=LOCALES.get(language, "en_CH"))
    except ValueError:
        return value


def parse_date_input(text, language):
    """A typed date (``31.12.2026``, ``31/12/2026`` or ISO) → ISO string; None when it is not a date."""
    text = (text or "").strip()
    try:
        return (
            date.fromisoformat(text).isoformat() if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else _local(text, language)
        )
    except ValueError:
        return None


def _local(text, language):
    separator, order = _date_order(language)
    parts = re.split(r"[./-]", text)
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    values = dict(zip(order, (int(p) for p in parts), strict=False))
    if values["y"] < 1000:
        return None  # four-digit years only: 01.12.26 is ambiguous
    return date(values["y"], values["m"], values["d"]).isoformat()


def translate_reason(text, t):
    """A reason written by a service in English, in the staff's language when it is one we know."""
    if not text:
        return text
    pattern, message = KNOWN_REASONS
    found = pattern.match(text)
    return t(message, **found.groupdict()) if found else text
