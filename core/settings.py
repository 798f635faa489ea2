"""The process environment, read once into one immutable object.

Names and defaults are the documented ones (docs/configuration.md); nothing else reads
``os.environ`` so that a test or a CLI command can build its own settings.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from core.config import Config, ConfigError

SECRETS = ("twilio_auth_token", "api_token", "secret_key")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = PROJECT_ROOT / "config.example.toml"


@dataclass(frozen=True)
class Settings:
    config_path: Path
    data_dir: Path
    redis_url: str | None
    database_url: str
    twilio_account_sid: str | None
    twilio_auth_token: str | None
    twilio_api_base_url: str | None
    public_base_url: str | None
    api_token: str | None
    secret_key: str | None = None  # IVR_SECRET_KEY: encrypts one-time secrets (dispatch.secrets_box)
    smtp_url: str | None = None  # SMTP_URL: the mail server of the hand-off e-mails
    # Every variable, for those the configuration names (a webhook's secret_env); never shown.
    environment: Mapping[str, str] = field(default_factory=dict, compare=False)

    def __repr__(self) -> str:
        """Without the tokens, the key and the URLs' passwords: settings end up in tracebacks,
        test reports and debugger output."""
        shown = []
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "environment":
                continue
            if item.name in SECRETS and value is not None:
                value = "***"
            elif item.name in ("database_url", "redis_url", "smtp_url") and value:
                value = _without_password(value)
            shown.append(f"{item.name}={value!r}")
        return f"Settings({', '.join(shown)})"

    @classmethod
    def from_env(cls, environ: dict | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("IVR_DATA_DIR") or "./var").resolve()
        config = env.get("IVR_CONFIG")
        if config:
            config_path = Path(config)
            if not config_path.is_file():
                raise ConfigError("IVR_CONFIG", f"no configuration file at {config_path}", "environment")
        else:
            config_path = Path("config.toml") if Path("config.toml").is_file() else EXAMPLE_CONFIG
        base = env.get("PUBLIC_BASE_URL") or None
        if base and not base.startswith(("http://", "https://")):
            raise ConfigError("PUBLIC_BASE_URL", f"{base!r} must start with https:// or http://", "environment")
        smtp_url = env.get("SMTP_URL") or None
        if smtp_url:
            _check_smtp_url(smtp_url)
        if base and base.startswith("http://") and urlsplit(base).hostname not in LOCAL_HOSTS:
            # Twilio would send every webhook, signature and all, in clear over the internet.
            raise ConfigError("PUBLIC_BASE_URL", f"{base!r} must be https:// (http:// only for localhost or "
                              "127.0.0.1)", "environment")
        if env.get("DATABASE_URL") and not env.get("IVR_SECRET_KEY"):
            # A shared database means several hosts: a key file in one host's data folder would
            # differ from the next host's, and lie beside the data it protects.
            raise ConfigError("IVR_SECRET_KEY", "must be set whenever DATABASE_URL is set (32 random bytes in "
                              "URL-safe base64; see docs/verification.md, Keys)", "environment")
        return cls(
            config_path=config_path,
            data_dir=data_dir,
            redis_url=env.get("REDIS_URL") or None,
            database_url=env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'tickets.sqlite3'}",
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
            twilio_api_base_url=(env.get("TWILIO_API_BASE_URL") or "").rstrip("/") or None,
            public_base_url=base.rstrip("/") if base else None,
            api_token=env.get("API_TOKEN") or None,
            secret_key=env.get("IVR_SECRET_KEY") or None,
            smtp_url=smtp_url,
            environment=dict(env),
        )

    def check(self, config: Config) -> None:
        """Raise ConfigError naming the key when the configuration names an environment variable
        that is not set (a webhook's ``secret_env``)."""
        for i, hook in enumerate(config.handoff.webhooks):
            if hook.secret_env and not self.environment.get(hook.secret_env):
                raise ConfigError(f"handoff.webhooks[{i}].secret_env",
                                  f"the environment variable {hook.secret_env} is not set", config.source)


def _check_smtp_url(url: str) -> None:
    problem = "must look like smtp://user:password@host:587 or smtps://user:password@host:465"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        raise ConfigError("SMTP_URL", problem, "environment") from None
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError("SMTP_URL", problem, "environment")


def prepare_data_dir(path: Path) -> Path:
    """Create the data folder (the SQLite file, the spool, the embedded Redis, the key file) readable
    by this user only, and make an existing one so."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)))
