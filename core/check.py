"""``python -m core.check``: validate the environment and configuration, as start-up would.

Prints one line naming the key and exits 2 when something is wrong, else one line of summary.
"""
import sys

from core.config import ConfigError, load_config
from core.settings import Settings


def main() -> int:
    try:
        settings = Settings.from_env()
        config = load_config(settings.config_path)
        settings.check(config)
    except ConfigError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        return 2
    print(f"config ok: {settings.config_path} ({config.company_name}, {config.support_number}, "
          f"{len(config.staff)} staff, {len(config.escalation)} escalation steps)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
