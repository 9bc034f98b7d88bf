"""Every setting of the suite, once: its variable, where each service's config.yml puts it, its kind
and default, kept as data in ``settings.toml`` beside this module. The services read them through
``oms_common.settings.setting``; a test checks each config.yml and the README's settings tables
against this table, so none can drift.
"""

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .setting_types import Kind, address, choice, delays, flag, seconds, secret, text, whole

ALL = ("gateway", "orders", "payments", "notifications", "exports", "documents")
BACKENDS = ALL[1:]


@dataclass(frozen=True)
class Setting:
    variable: str  # what an operator sets: OMS_…
    key: str | None  # where config.yml puts it ("MAIL.FROM" is MAIL: FROM:); None: read from the environment only
    kind: Kind
    default: str  # the text config.yml falls back to; "" means unset
    services: tuple[str, ...]
    nameko: bool = False  # read by nameko itself (listener address, worker pool), not by OMS code


KINDS: dict[str, Callable[..., Kind]] = {
    "text": text,
    "secret": secret,
    "whole": whole,
    "seconds": seconds,
    "flag": flag,
    "choice": choice,
    "address": address,
    "delays": delays,
}
SERVICE_GROUPS = {"all": ALL, "backends": BACKENDS}


def _from_row(row: dict[str, Any]) -> Setting:
    kind = KINDS[row["kind"]]
    if "choices" in row:
        parsed = kind(*row["choices"])
    else:
        parsed = kind(row["min"]) if "min" in row else kind()
    services = row["services"]
    services = SERVICE_GROUPS.get(services, (services,)) if isinstance(services, str) else tuple(services)
    return Setting(row["variable"], row.get("key"), parsed, row["default"], services, row.get("nameko", False))


with (Path(__file__).parent / "settings.toml").open("rb") as table:
    SETTINGS: tuple[Setting, ...] = tuple(_from_row(row) for row in tomllib.load(table)["settings"])

# a service outside the suite (a test's own) reads a key as the first service that has it does
BY_KEY: dict[str, Setting] = {}
for _setting in SETTINGS:
    BY_KEY.setdefault(_setting.key or _setting.variable, _setting)

BY_SERVICE_KEY: dict[tuple[str, str], Setting] = {
    (service, setting.key or setting.variable): setting for setting in SETTINGS for service in setting.services
}
