"""Alembic's environment: the schema of every domain's models, on the connection the app hands in
(``core.migrations``), or on ``DATABASE_URL`` when Alembic's own command line runs it."""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import wiring
from core.db import Base
from core.settings import Settings

wiring.load_models()
target_metadata = Base.metadata


def run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = create_engine(Settings.from_env().database_url)
    with engine.begin() as fresh:
        run(fresh)
    engine.dispose()
