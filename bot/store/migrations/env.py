"""Alembic environment for the touchpoint store: always run in code, on the connection it is handed.

`bot.store.database.upgrade` passes the connection in `config.attributes`; there is no alembic.ini
and no URL here, so migrations run against exactly the database the store uses.
"""

from __future__ import annotations

from alembic import context

from bot.store.database import VERSION_TABLE
from bot.store.models import Base, is_store_object

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=VERSION_TABLE,
    # SQLite can only ALTER by copying the table; batch mode lets later revisions do that.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_name=is_store_object,
)
with context.begin_transaction():
    context.run_migrations()
