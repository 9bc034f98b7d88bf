"""Settings: the typed reader every service uses, and where a service's data lives."""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .setting_table import ALL, BY_KEY, BY_SERVICE_KEY, SETTINGS
from .setting_types import SettingsError

if TYPE_CHECKING:
    from sqlalchemy import URL

REPO_ROOT = Path(__file__).resolve().parents[2]
# written by `make run` while its embedded PostgreSQL runs (see tools/run.py), read by `oms`
EMBEDDED_URL_FILE = "database-url"


class DatabaseNotConfigured(RuntimeError):
    pass


def var_dir() -> Path:
    path = Path(setting(None, "OMS_VAR_DIR", "gateway") or REPO_ROOT / "var")
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url(configured_url: str | None, service_name: str | None = None) -> str:
    """The SQLAlchemy URL for a service: one PostgreSQL database, each service in its own schema.

    Without a configured URL, the embedded server of a running `make run` under var/ is used.
    """
    url = configured_url or _embedded_url()
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://") :]
    require_postgresql(url)
    return url


def _embedded_url() -> str:
    path = var_dir() / EMBEDDED_URL_FILE
    if path.exists():
        return path.read_text().strip()
    raise DatabaseNotConfigured(
        "OMS_DATABASE_URL is not set and no embedded PostgreSQL of `make run` is running "
        f"(no {path}); start the suite with `make run` or set OMS_DATABASE_URL."
    )


def require_postgresql(url: "str | URL") -> None:
    if not str(url).startswith("postgresql"):
        raise DatabaseNotConfigured(f"OMS speaks PostgreSQL only; OMS_DATABASE_URL is {str(url).split(':')[0]}:…")


def setting(config: Mapping[str, Any] | None, key: str, service: str, environ: Mapping[str, str] | None = None) -> Any:
    """The typed value of one setting of ``service`` (``key`` as in settings.toml: ``"MAIL.FROM"``).

    From the service's config (config.yml fills it from the environment); when the config lacks
    it (a config built in code), from the environment; else the table's default. An unset text
    setting is ``""``, any other unset setting ``None``. A value the setting's kind refuses raises
    ``SettingsError`` naming the variable.
    """
    entry = BY_SERVICE_KEY.get((service, key)) if service in ALL else BY_KEY.get(key)
    if entry is None:
        raise KeyError(f"{key} is not a setting of {service} (see oms_common/settings.toml)")
    raw = _configured(config, entry.key) if entry.key else None
    if raw is None:
        raw = (os.environ if environ is None else environ).get(entry.variable)
    free_text = entry.kind.name in ("text", "secret")
    text = _as_text(raw)
    if not free_text:
        text = text.strip()  # free text keeps its blanks (a tab as the CSV delimiter)
    if text == "":
        text = entry.default
    if text == "":
        return "" if free_text else None
    try:
        return entry.kind.value(text)
    except ValueError as problem:
        raise SettingsError(f"{entry.variable} {problem}; it is {text!r}.") from None


def section(config: Mapping[str, Any] | None, prefix: str, service: str) -> dict[str, Any]:
    """Every setting ``<prefix>.<NAME>`` of ``service`` in the table, typed, by ``name`` in lower
    case (``SMTP.VERIFY_TLS`` as ``verify_tls``): what a settings class of that section is made from,
    so a setting added to the table reaches it without a second list of keys."""
    start = prefix + "."
    return {
        key[len(start) :].lower(): setting(config, key, service)
        for owner, key in BY_SERVICE_KEY
        if owner == service and key.startswith(start)
    }


def check_settings(config: Mapping[str, Any] | None, service: str, environ: Mapping[str, str] | None = None) -> None:
    """Reads every setting of ``service`` once, so that a wrong one stops it at start, named."""
    for entry in SETTINGS:
        if service in entry.services and not entry.nameko:
            setting(config, entry.key or entry.variable, service, environ)


def _configured(config: Mapping[str, Any] | None, key: str) -> Any:
    value: Any = config or {}
    for part in key.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _as_text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, (list, tuple)):
        return ",".join(str(item) for item in raw)
    return str(raw)
