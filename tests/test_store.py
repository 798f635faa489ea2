"""The store starts on an older database: added columns are migrated in place."""
import sqlite3

import pytest

from core.db import Store

pytestmark = pytest.mark.postgres


def test_a_column_added_since_the_database_was_made_is_added_at_start_up(tmp_path):
    path = tmp_path / "old.sqlite3"
    store = Store(f"sqlite:///{path}")
    store.create_schema()
    store.dispose()
    with sqlite3.connect(path) as conn:  # an older release had no transcript column
        conn.execute("ALTER TABLE tickets DROP COLUMN transcript")
    store = Store(f"sqlite:///{path}")
    store.create_schema()
    store.dispose()
    with sqlite3.connect(path) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(tickets)")}
    assert "transcript" in columns
