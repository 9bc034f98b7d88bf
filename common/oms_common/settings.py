"""Where a service's data lives, derived from the environment-backed nameko config."""
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def var_dir():
    path = Path(os.environ.get("OMS_VAR_DIR") or REPO_ROOT / "var")
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url(configured_url, service_name):
    """The SQLAlchemy URL for a service.

    Without a configured URL each service gets its own SQLite file under var/;
    a PostgreSQL URL is shared and each service lives in its own schema.
    """
    if configured_url:
        url = configured_url
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://"):]
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg2://" + url[len("postgresql://"):]
        return url
    return f"sqlite:///{var_dir() / (service_name + '.sqlite3')}"


def is_postgresql(url):
    return url.startswith("postgresql")
