"""``flask --app wsgi doctor``: is this installation ready to take calls? One line per check, each
with the fix when it fails; exit status 1 when something is wrong.

Checked: the configuration, ``PUBLIC_BASE_URL`` (https, and reachable from here: its
``/health``), the Twilio credentials, the support number's webhooks, the secret key and API
token, the database and its schema, Redis, the workers, this host's spool; with
``--test-sms STAFF_ID``, a text to that person's mobile.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import click
import redis
import requests
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

import voice_prompts
from core import migrations
from core.settings import EXAMPLE_CONFIG
from dispatch.calls import spool
from dispatch.jobs import recovery
from dispatch.notification.carrier import DeliveryError
from dispatch.notification.numbers import AccountError
from ivr.cli.twilio_number import LABELS, SET_CREDENTIALS, admin, differences, wanted_webhooks
from ivr.context import runtime as _runtime

OK, WARN, FAIL = "ok", "warn", "FAIL"
REACH_SECONDS = 10


@dataclass(frozen=True)
class Finding:
    mark: str
    what: str
    detail: str
    fix: str | None = None

    def line(self) -> str:
        return f"{self.mark:<5} {self.what:<15} {self.detail}" + (f"; fix: {self.fix}" if self.fix else "")


def _config() -> Finding:
    runtime = _runtime()
    config, path = runtime.config, runtime.settings.config_path
    detail = (f"{path}: {config.company_name}, support number {config.support_number}, {len(config.staff)} staff, "
              f"{len(config.escalation)} escalation steps")
    if path.resolve() == EXAMPLE_CONFIG.resolve():
        return Finding(WARN, "config", detail + " (the shipped example)",
                       "copy config.example.toml to config.toml (or point IVR_CONFIG at yours) and make it yours")
    return Finding(OK, "config", detail)


def _public_url() -> list[Finding]:
    base = _runtime().settings.public_base_url
    if not base:
        return [Finding(FAIL, "public URL", "PUBLIC_BASE_URL is unset: Twilio cannot reach this app",
                        "put an https reverse proxy or tunnel in front of the web app and set PUBLIC_BASE_URL to "
                        "its address (docs/deploy.md)")]
    found = [Finding(OK, "public URL", f"{base} is https") if base.startswith("https://") else
             Finding(FAIL, "public URL", f"{base} is not https: calls' keys and messages would cross in clear",
                     "serve it over TLS (a reverse proxy, docs/deploy.md) and set PUBLIC_BASE_URL to https://…")]
    try:
        answer = requests.get(f"{base}/health", timeout=REACH_SECONDS)
        health = answer.json() if answer.status_code == 200 else None
    except (requests.RequestException, ValueError) as exc:
        return found + [Finding(FAIL, "reachable", f"{base}/health did not answer ({type(exc).__name__})",
                                "check DNS, the reverse proxy and that the web app runs behind it")]
    if not isinstance(health, dict) or "status" not in health:
        return found + [Finding(FAIL, "reachable", f"{base}/health answered HTTP {answer.status_code}, not this "
                                "app's /health", "point the reverse proxy (or tunnel) at the web app's port")]
    return found + [Finding(OK, "reachable", f"{base}/health answers: {health['status']}")]


def _twilio() -> list[Finding]:
    runtime = _runtime()
    account = admin()
    if account is None:
        return [Finding(FAIL, "Twilio", "no credentials: every webhook is refused (403) and SMS and calls go to the "
                        "console outbox", SET_CREDENTIALS)]
    try:
        found = account.account()
    except AccountError as exc:
        fix = "copy the Account SID and Auth Token from the Twilio console into TWILIO_ACCOUNT_SID and " \
              "TWILIO_AUTH_TOKEN" if exc.refused else "check the network to api.twilio.com (or TWILIO_API_BASE_URL)"
        return [Finding(FAIL, "Twilio", f"credentials not accepted: {exc.detail}", fix)]
    findings = [Finding(OK, "Twilio", f"credentials accepted: account {found.name} ({found.status})")
                if found.status == "active" else
                Finding(FAIL, "Twilio", f"account {found.name} is {found.status}",
                        "reactivate it in the Twilio console")]
    if found.trial:
        findings.append(Finding(WARN, "Twilio", "a trial account: it calls and texts only verified numbers, after "
                                "a trial notice", "upgrade the account in the Twilio console"))
    return findings + [_number_webhooks(account, runtime.config.support_number)]


def _number_webhooks(account, number: str) -> Finding:
    wanted = wanted_webhooks()
    try:
        found = account.find(number)
    except AccountError as exc:
        return Finding(FAIL, "webhooks", f"could not read {number}: {exc.detail}")
    if found is None:
        return Finding(FAIL, "webhooks", f"{number} (company.support_number) is not a number of this account",
                       "buy or port the number into this account, or fix company.support_number")
    if wanted is None:
        return Finding(FAIL, "webhooks", f"{number}: cannot tell where they should point without PUBLIC_BASE_URL",
                       "set PUBLIC_BASE_URL")
    wrong = differences(found, wanted)
    if found.overridden_by:
        return Finding(FAIL, "webhooks", f"{number} is handled by {found.overridden_by}, not its webhooks",
                       "flask --app wsgi twilio configure")
    if wrong:
        return Finding(FAIL, "webhooks", f"{number}: not this app's: " + ", ".join(LABELS[p] for p in wrong),
                       "flask --app wsgi twilio configure")
    return Finding(OK, "webhooks", f"{number} points at {_runtime().settings.public_base_url}")


def _keys() -> list[Finding]:
    settings = _runtime().settings
    return [
        Finding(OK, "secret key", "IVR_SECRET_KEY is set") if settings.secret_key else
        Finding(WARN, "secret key", f"IVR_SECRET_KEY is unset: the key file in {settings.data_dir} is used, which "
                "serves one machine only", "set IVR_SECRET_KEY (the same on every host; docs/verification.md#keys)"),
        Finding(OK, "API token", "API_TOKEN is set") if settings.api_token else
        Finding(WARN, "API token", "API_TOKEN is unset: /api refuses every request",
                "set API_TOKEN to a long random string (scripts/run keeps one in the data folder)"),
    ]


def _database() -> list[Finding]:
    store = _runtime().store
    try:
        store.ping()
        at, newest = migrations.current(store), migrations.head()
    except SQLAlchemyError as exc:
        return [Finding(FAIL, "database", f"not reachable ({type(exc).__name__})",
                        "check DATABASE_URL and that the server runs")]
    if at != newest:
        return [Finding(OK, "database", "reachable"),
                Finding(FAIL, "schema", f"at {at or 'no revision'}, newest {newest}", "flask --app wsgi db upgrade")]
    return [Finding(OK, "database", "reachable"), Finding(OK, "schema", f"current ({at})")]


def _redis_and_workers() -> list[Finding]:
    runtime = _runtime()
    try:
        runtime.redis.ping()
        alive = recovery.alive_workers(runtime)
    except (redis.RedisError, OSError) as exc:
        return [Finding(FAIL, "Redis", f"not reachable ({type(exc).__name__})",
                        "check REDIS_URL and that the server runs"),
                Finding(FAIL, "workers", "unknown without Redis")]
    found = [Finding(OK, "Redis", "reachable")]
    if not alive:
        return found + [Finding(FAIL, "workers", "none alive: pages, callbacks and timers wait",
                                "start python -m dispatch.worker (systemctl start support-line-worker@1)")]
    return found + [Finding(OK, "workers", f"{len(alive)} alive: {', '.join(sorted(alive))}")]


def _spool() -> Finding:
    data_dir = _runtime().settings.data_dir
    try:
        backlog = spool.backlog(data_dir)
    except OSError as exc:
        return Finding(FAIL, "spool", f"{spool.spool_dir(data_dir)} unreadable ({type(exc).__name__})",
                       "give the app's user that folder")
    detail = (f"{backlog['waiting']} waiting (oldest {backlog['oldest_seconds']:.0f} s), "
              f"{backlog['set_aside']} set aside")
    if spool.needs_attention(backlog):
        return Finding(FAIL, "spool", detail, "run a worker with this host's IVR_DATA_DIR; look at any *.bad file "
                       "(docs/operations.md#the-spool)")
    return Finding(OK, "spool", detail)


def _test_sms(staff_id: str) -> Finding:
    runtime = _runtime()
    person = runtime.config.staff[staff_id]
    text = voice_prompts.say("sms_test", company=runtime.config.company_name)
    try:
        sent = runtime.carrier.send_sms(person.mobile, text, None)
    except DeliveryError as exc:
        return Finding(FAIL, "test SMS", f"to {person.name} ({person.mobile}) refused: {exc.detail}",
                       "check the number in [[staff]] and the account's messaging setup (A2P 10DLC registration)")
    where = "to the console outbox, not a phone (no Twilio credentials)" if admin() is None else f"as {sent.sid}"
    return Finding(OK, "test SMS", f"sent to {person.name} ({person.mobile}) {where}: ask them whether it arrived")


@click.command("doctor")
@with_appcontext
@click.option("--test-sms", "staff_id", metavar="STAFF_ID", help="also text this staff member's mobile")
def doctor(staff_id):
    """Check that this installation can take calls: configuration, public address, Twilio, the
    number's webhooks, keys, database, Redis, workers, spool. Exit status 1 when something is wrong."""
    runtime = _runtime()
    if staff_id is not None and staff_id not in runtime.config.staff:
        raise click.BadParameter(f"{staff_id!r} is not a staff id; known: {', '.join(runtime.config.staff)}",
                                 param_hint="--test-sms")
    checks: list[Callable[[], Finding | list[Finding]]] = [_config, _public_url, _twilio, _keys, _database,
                                                           _redis_and_workers, _spool]
    if staff_id is not None:
        checks.append(lambda: _test_sms(staff_id))
    failed = 0
    for check in checks:
        found = check()
        for finding in found if isinstance(found, list) else [found]:
            click.echo(finding.line())
            failed += finding.mark == FAIL
    click.echo(f"\n{failed} problem{'s' if failed != 1 else ''} found" if failed else "\nall well")
    if failed:
        raise SystemExit(1)
