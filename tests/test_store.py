"""The store starts on an older database (added columns are migrated in place), and several
processes starting together on an empty database all start."""
import subprocess
import sys

import pytest
from sqlalchemy import inspect

from core.db import Store
from core.settings import PROJECT_ROOT

pytestmark = pytest.mark.postgres


def test_a_column_added_since_the_database_was_made_is_added_at_start_up(database_url):
    store = Store(database_url)
    store.create_schema()
    with store.engine.begin() as conn:  # an older release had no transcript column
        conn.exec_driver_sql("ALTER TABLE tickets DROP COLUMN transcript")
    store.dispose()
    store = Store(database_url)
    store.create_schema()
    columns = {column["name"] for column in inspect(store.engine).get_columns("tickets")}
    store.dispose()
    assert "transcript" in columns


def test_processes_starting_together_on_an_empty_database_all_start(database_url):
    # What gunicorn's workers and the RQ workers do at once on a first deployment.
    code = "import sys; from core.db import Store; Store(sys.argv[1]).create_schema()"
    processes = [subprocess.Popen([sys.executable, "-c", code, database_url], cwd=PROJECT_ROOT,
                                  stderr=subprocess.PIPE, text=True) for _ in range(4)]
    errors = [process.communicate(timeout=60)[1] for process in processes]
    assert [process.returncode for process in processes] == [0] * 4, "\n".join(errors)
