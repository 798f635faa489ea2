"""The WSGI entry point: ``gunicorn wsgi:app`` and ``flask --app wsgi …``."""
import sys

from core.config import ConfigError
from core.heap import freeze_startup_objects
from wiring import create_app

try:
    app = create_app()
except ConfigError as exc:
    sys.stderr.write(f"configuration error: {exc}\n")
    raise SystemExit(2) from None
freeze_startup_objects()
