"""Alembic glue: each service keeps its own migrations; this runs them against its schema."""

import os
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text

from .db import make_engine
from .settings import database_url, setting


def run_env(metadata: MetaData, service_name: str) -> None:
    """Body of a service's migrations/env.py."""
    config = context.config
    url = config.attributes.get("url") or database_url(setting(None, "DATABASE_URL", service_name), service_name)
    schema = service_name
    engine = make_engine(database_url(url), schema=schema, pool_size=1)
    with engine.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        connection.commit()
        context.configure(connection=connection, target_metadata=metadata, version_table_schema=schema)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def upgrade(service_dir: str | os.PathLike[str], url: str | None = None, revision: str = "head") -> None:
    service_dir = Path(service_dir)
    config = Config(str(service_dir / "alembic.ini"))
    config.set_main_option("script_location", str(service_dir / "migrations"))
    if url:
        config.attributes["url"] = url
    command.upgrade(config, revision)
