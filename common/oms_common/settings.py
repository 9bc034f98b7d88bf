"""Where a service's data lives, derived from the environment-backed nameko config."""

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import URL

REPO_ROOT = Path(__file__).resolve().parents[2]
# written by `make run` while its embedded PostgreSQL runs (see tools/run.py), read by `oms`
EMBEDDED_URL_FILE = "database-url"


class DatabaseNotConfigured(RuntimeError):
    pass


def var_dir() -> Path:
    path = Path(os.environ.get("OMS_VAR_DIR") or REPO_ROOT / "var")
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
