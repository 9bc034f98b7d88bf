"""Every string of the staff UI in German, French and Italian (English is the key).

One row per message, so a language cannot be left out of one: ``"English": (de, fr, it)``.
The rows are kept by area (``catalog_pages``, ``catalog_orders``, ``catalog_workflow``,
``catalog_values``) and joined here into one catalog. Enum values (statuses, methods, mail kinds,
roles, …) are keys too; ``ENGLISH`` gives them a readable English form. Messages with ``{name}``
are filled in after translation.
"""

from .catalog_orders import MESSAGES as ORDER_MESSAGES
from .catalog_pages import MESSAGES as PAGE_MESSAGES
from .catalog_values import ENGLISH
from .catalog_values import MESSAGES as VALUE_MESSAGES
from .catalog_workflow import MESSAGES as WORKFLOW_MESSAGES

MESSAGES = {**PAGE_MESSAGES, **ORDER_MESSAGES, **VALUE_MESSAGES, **WORKFLOW_MESSAGES}

CATALOGS = {
    "en": ENGLISH,
    "de": {key: row[0] for key, row in MESSAGES.items()},
    "fr": {key: row[1] for key, row in MESSAGES.items()},
    "it": {key: row[2] for key, row in MESSAGES.items()},
}
