"""Load benchmark (not a test): emergency calls through the real multi-process stack,
at several levels of concurrent calls, next to the work floor: the least work any correct
support line must do (``bench/work_floor.py``).

The stack is the one production runs (``tests.processes.ProcessStack``): ``gunicorn
wsgi:app`` (gthread), ``python -m dispatch.worker`` processes, a redis-server, SQLite (or
``--database-url``), and the Twilio stand-in in its own process. Each simulated call is
what Twilio would send for a caller who dials 501 after hours and leaves a message, every
webhook signed, every URL after the first taken from the TwiML the app answered:

    /voice/incoming -> the <Gather> action with Digits=501 -> (the message is recorded)
    -> the <Record> action and the recordingStatusCallback, sent together as Twilio does
    -> /voice/status CallStatus=completed -> the transcribeCallback

"N concurrent calls" means N calls in progress at every moment: N lanes, each running
one call after another, each call pausing a think time between its webhooks (uniform
between 0.5x and 1.5x ``--think``, where a real caller takes 10-30 s per step: the
default compresses a call about 20-fold, so N calls here send as many webhooks a second
as roughly 20 N real ones). The lanes' first calls start spread over ``--ramp`` seconds
(default one call's length, so that from then on as many calls are at each step as at
any other); calls then go on starting for ``--duration`` seconds (or until ``--calls``
more started), and the calls in progress finish. Figures come from the requests sent in
that window, after the ramp and before calls stop starting, when N calls are in progress
throughout; errors and the checks below count every call of the level.

The work floor runs under the same gunicorn settings, with as many paging processes as the
app has workers, on the same Redis and the same stand-in, driven by the same lanes, think
times and requests per call (to the same paths), at each level, in the same run: its
webhook latencies and its record-to-first-SMS times are the floor each of the app's is
judged against. After each level the benchmark checks every voicemail became one ticket
(database) whose caller heard its number, and every P1 got exactly one first-step SMS to
the on-call primary (the Twilio stand-in). Figures go to ``bench/results/load-<time>.json``
and a PNG.

    bash scripts/bench [--levels 50,200,500] [--duration 20 | --calls 600] [--think 2] [--ramp 8] [--trace]
"""
from __future__ import annotations

import argparse
import asyncio
import copy
import itertools
import json
import os
import platform
import random
import re
import resource
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import psutil  # noqa: E402
import redis  # noqa: E402
from rq.job import Job  # noqa: E402
from sqlalchemy import select  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402
from yarl import URL  # noqa: E402

from bench.speed_probe import SpeedProbe  # noqa: E402
from bench.stats import percentile  # noqa: E402
from core.db import Store  # noqa: E402
from dispatch.tickets.models import Ticket  # noqa: E402
from fake_twilio.phone import ACCOUNT_SID  # noqa: E402
from tests.processes import ProcessStack, start_gunicorn, stop_process, wait_until  # noqa: E402
from tests.support import AUTH_TOKEN, BASE_CONFIG, SUPPORT_NUMBER, RedisServer  # noqa: E402

RESULTS = ROOT / "bench" / "results"
THINKS_PER_CALL = 4  # the pauses in one call (Driver.call)
REQUEST_TIMEOUT = 15  # seconds, as Twilio gives a voice webhook
PAGE_WAIT = 600  # at most, seconds to wait after a level for its queued pages to reach the stand-in
PAGE_STALL = 20  # ... and no longer than this without a new one
# The targets: every figure within this ratio of the work floor's, in the same run.
TARGET_FLOOR_RATIO = 1.5
WEBHOOK_LEVELS, PAGE_LEVELS = (50, 200, 500), (100, 300)
TARGET_RSS_MB = 100  # each gunicorn worker and each RQ worker, after the largest level
FIRST_CALLER = 1000  # caller numbers +1270555xxxx from here on, one per call, never reused


def bench_config() -> dict:
    """The test configuration, closed all week (501 goes straight to the voicemail at any
    hour), one person on call (a run across the weekly handoff checks its pages against the
    same primary) and with every escalation step after the first an hour out, so a run of
    minutes sees exactly one page per ticket and no delivery deadline passes. A burst's pages are
    not held for one digest (``security.page_burst_seconds = 0``): every ticket's page is measured
    on its own, as the work floor sends it."""
    config = copy.deepcopy(BASE_CONFIG)
    config["security"] = {**config.get("security", {}), "page_burst_seconds": 0}
    config["hours"] = {}
    config["oncall"]["rotation"] = ["alice"]
    steps = config["oncall"]["escalation"]
    for i, step in enumerate(steps[1:], start=1):
        step["after_minutes"] = 60 + i
    config["oncall"]["delivery_deadline_minutes"] = 60
    return config


def caller_number(n: int) -> str:
    return f"+1270{555 + n // 10000:03d}{n % 10000:04d}"


def summary(values: list[float], seconds: float | None = None) -> dict:
    ms = [v * 1000 for v in values]
    out = {"count": len(ms), "p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95),
           "p99_ms": percentile(ms, 99), "max_ms": max(ms) if ms else None}
    if seconds:
        out["per_second"] = len(ms) / seconds
    return out


class CallFailed(Exception):
    pass


@dataclass
class Flow:
    """The URLs of one call, as the app's TwiML gave them (the floor replays the first call's)."""

    menu: str = ""
    recorded: str = ""
    recording_status: str = ""
    transcription: str = ""
    status: str = "/voice/status"  # configured in Twilio's console, not linked from TwiML


@dataclass
class Level:
    """What one level of one target recorded."""

    # The window measured, in time.perf_counter(): from the end of the ramp until calls stop starting.
    measure_from: float = 0.0
    measure_until: float = float("inf")
    window_closed: asyncio.Event = field(default_factory=asyncio.Event)
    requests: list = field(default_factory=list)  # (perf_counter when sent, path, seconds taken)
    errors: list = field(default_factory=list)  # all, in the window or not: a run has none
    # caller -> (CallSid, time.time() when sent, perf_counter when sent, ticket number heard)
    voicemails: dict = field(default_factory=dict)
    started: int = 0  # calls, in all
    started_in_window: int = 0
    completed: int = 0

    @classmethod
    def starting_now(cls, ramp: float, duration: float | None) -> Level:
        """A level whose first calls start over ``ramp`` seconds from now, measured for ``duration``
        seconds after that (None: until it is closed)."""
        begins = time.perf_counter() + ramp
        return cls(measure_from=begins, measure_until=begins + duration if duration else float("inf"))

    def measures(self, moment: float) -> bool:
        return self.measure_from <= moment < self.measure_until

    def close_window(self) -> None:
        """No call starts after this."""
        if not self.window_closed.is_set():
            self.measure_until = min(self.measure_until, time.perf_counter())
            self.window_closed.set()

    def measured_requests(self) -> list[tuple[float, str, float]]:
        return [r for r in self.requests if self.measures(r[0])]


class Driver:
    """Simulated calls over one aiohttp session, signed like Twilio's webhooks."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, think: float, rng: random.Random,
                 floor_flow: Flow | None = None):
        self.session, self.base_url, self.think_mean, self.rng = session, base_url, think, rng
        self.validator = RequestValidator(AUTH_TOKEN)
        self.floor_flow = floor_flow  # set: the work floor, which replays the app's first call's paths
        self.numbers = itertools.count(FIRST_CALLER)
        self.level = Level.starting_now(0, None)

    async def think(self) -> None:
        await asyncio.sleep(self.think_mean * self.rng.uniform(0.5, 1.5))

    async def post(self, url: str, params: dict) -> str:
        """One signed webhook; its latency is recorded with its path (no query) and when it was sent."""
        url = urljoin(self.base_url + "/", url)
        headers = {"X-Twilio-Signature": self.validator.compute_signature(url, params),
                   "I-Twilio-Idempotency-Token": uuid.uuid4().hex}
        path = urlsplit(url).path
        began = time.perf_counter()
        try:
            async with self.session.post(URL(url, encoded=True), data=params, headers=headers) as response:
                body = await response.text()
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as exc:
            self.level.errors.append({"path": path, "error": type(exc).__name__, "detail": str(exc)[:200]})
            raise CallFailed from exc
        self.level.requests.append((began, path, time.perf_counter() - began))
        if status != 200:
            self.level.errors.append({"path": path, "error": f"HTTP {status}", "detail": body[:200]})
            raise CallFailed
        return body

    async def twiml(self, url: str, params: dict) -> ET.Element:
        body = await self.post(url, params)
        try:
            return ET.fromstring(body)
        except ET.ParseError:
            self.level.errors.append({"path": urlsplit(url).path, "error": "not TwiML", "detail": body[:200]})
            raise CallFailed from None

    def _link(self, node: ET.Element | None, attribute: str, relative_to: str, what: str) -> str:
        """The URL a TwiML attribute links to, as path and query (the floor replays it on its own host)."""
        value = node.get(attribute) if node is not None else None
        if not value:
            self.level.errors.append({"path": urlsplit(relative_to).path, "error": f"TwiML without {what}",
                                      "detail": ""})
            raise CallFailed
        parts = urlsplit(urljoin(relative_to, value))
        return parts.path + (f"?{parts.query}" if parts.query else "")

    async def call(self) -> None:
        """One emergency call from a new caller number, start to transcription."""
        floor = self.floor_flow
        caller = caller_number(next(self.numbers))
        sid = "CA" + uuid.uuid4().hex
        base = {"CallSid": sid, "AccountSid": ACCOUNT_SID, "From": caller, "To": SUPPORT_NUMBER, "Caller": caller,
                "Called": SUPPORT_NUMBER, "CallStatus": "in-progress", "Direction": "inbound",
                "ApiVersion": "2010-04-01", "FromCountry": "US", "FromState": "KY", "FromCity": "", "FromZip": ""}
        incoming = self.base_url + "/voice/incoming"
        greeting = await self.twiml(incoming, {**base, "CallStatus": "ringing"})
        flow = floor or Flow(menu=self._link(greeting.find("Gather"), "action", incoming, "a <Gather> action"))
        await self.think()  # the greeting and menu are spoken; the caller keys 5-0-1
        menu_url = urljoin(incoming, flow.menu)
        answer = await self.twiml(menu_url, {**base, "Digits": "501", "FinishedOnKey": ""})
        if not floor:
            record = answer.find("Record")
            flow.recorded = self._link(record, "action", menu_url, "a <Record> action")
            flow.recording_status = self._link(record, "recordingStatusCallback", menu_url,
                                               "a recordingStatusCallback")
            flow.transcription = self._link(record, "transcribeCallback", menu_url, "a transcribeCallback")
            self.learned = flow
        await self.think()  # the message is recorded
        recording_sid = "RE" + uuid.uuid4().hex
        recording = {"RecordingSid": recording_sid, "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/"
                     f"{ACCOUNT_SID}/Recordings/{recording_sid}"}
        sent, sent_counter = time.time(), time.perf_counter()
        goodbye, _ = await asyncio.gather(
            self.twiml(flow.recorded, {**base, **recording, "RecordingDuration": "30", "Digits": "#"}),
            self.post(flow.recording_status, {
                "AccountSid": ACCOUNT_SID, "CallSid": sid, **recording, "RecordingStatus": "completed",
                "RecordingDuration": "30", "RecordingChannels": "1", "RecordingSource": "RecordVerb"}))
        heard = " ".join((say.text or "") for say in goodbye.iter("Say"))
        spoken = re.search(r"ticket number is ([^.]+)\.", heard)
        self.level.voicemails[caller] = (sid, sent, sent_counter,
                                         re.sub(r"[^A-Z0-9]", "", spoken.group(1)) if spoken else None)
        await self.think()  # the caller hears the ticket number twice and hangs up
        await self.post(flow.status, {**base, "CallStatus": "completed", "CallDuration": "75"})
        await self.think()  # Twilio transcribes, later
        await self.post(flow.transcription, {**base, **recording, "TranscriptionSid": "TR" + uuid.uuid4().hex,
                                             "TranscriptionText": "Our file server is down, nobody can work.",
                                             "TranscriptionStatus": "completed"})

    async def run(self, level: Level, lanes: int, calls: int | None, limit: float) -> None:
        """``lanes`` calls in progress at once, the first ones started over the level's ramp, then
        until the level's window ends (or ``calls`` were started in it, if given).

        Figures come from that window: ``lanes`` calls are in progress throughout, and with
        the first ones spread over one call's length, as many are at each step as at any
        other. Started together instead, calls would move in step for the whole run, every
        call's <Record> action within a second or two of the others'.
        """
        self.level = level
        ramp = max(0.0, level.measure_from - time.perf_counter())

        async def lane() -> None:
            await asyncio.sleep(self.rng.uniform(0, ramp))
            while time.perf_counter() < level.measure_until:
                level.started += 1
                if level.measures(time.perf_counter()):
                    level.started_in_window += 1
                    if calls and level.started_in_window >= calls:
                        level.close_window()
                try:
                    await self.call()
                    level.completed += 1
                except CallFailed:
                    await self.think()

        tasks = [asyncio.ensure_future(lane()) for _ in range(lanes)]
        done, pending = await asyncio.wait(tasks, timeout=limit)
        for task in pending:
            task.cancel()
        if pending:
            level.errors.append({"path": "-", "error": "level time limit", "detail": f"{len(pending)} lanes cut"})
        level.close_window()
        for task in done:
            if task.exception():
                raise task.exception()


async def loop_lag(level: Level, stop: asyncio.Event, interval: float = 0.01) -> list[float]:
    """How late the generator's event loop woke in the level's window: if it is late,
    latencies include its queueing."""
    lags = []
    while not stop.is_set():
        began = time.perf_counter()
        await asyncio.sleep(interval)
        if level.measures(began):
            lags.append(time.perf_counter() - began - interval)
    return lags


class CpuMeter:
    """CPU seconds used by named groups of processes, by this process, and by the whole machine."""

    def __init__(self, groups: dict[str, list[int]]):
        self.groups = {name: [psutil.Process(pid) for pid in pids] for name, pids in groups.items()}

    async def over_window(self, level: Level) -> dict:
        """Cores used in the level's window: sampled as it opens and as it closes."""
        await asyncio.sleep(max(0.0, level.measure_from - time.perf_counter()))
        before, began = self.sample(), time.perf_counter()
        left = level.measure_until - began
        try:
            await asyncio.wait_for(level.window_closed.wait(), None if left == float("inf") else max(0.0, left))
        except TimeoutError:
            pass
        return self.share(before, self.sample(), time.perf_counter() - began)

    def sample(self) -> dict:
        out = {}
        for name, processes in self.groups.items():
            total = 0.0
            for process in processes:
                try:
                    times = process.cpu_times()
                    total += times.user + times.system
                except psutil.Error:
                    pass
            out[name] = total
        me = resource.getrusage(resource.RUSAGE_SELF)
        out["generator"] = me.ru_utime + me.ru_stime
        machine = psutil.cpu_times()
        out["machine_busy"] = sum(machine) - machine.idle - getattr(machine, "iowait", 0.0)
        return out

    @staticmethod
    def share(before: dict, after: dict, seconds: float) -> dict:
        """Cores used on average over ``seconds`` (1.0 = one core busy the whole time)."""
        used = {k: (after[k] - before[k]) / seconds for k in before}
        used["others"] = max(0.0, used["machine_busy"] - sum(v for k, v in used.items() if k != "machine_busy"))
        return {k: round(v, 3) for k, v in used.items()}


def check_level(stack: ProcessStack, store: Store, redis_connection, level: Level, primary: str,
                prefix: str) -> dict:
    """Every voicemail one ticket, heard by its caller; every P1 exactly one first-step SMS."""
    sids = {sid: caller for caller, (sid, *_) in level.voicemails.items()}
    with store.transaction() as session:
        rows = []
        sid_list = list(sids)
        for i in range(0, len(sid_list), 500):
            rows += session.execute(select(Ticket.id, Ticket.call_sid, Ticket.priority, Ticket.kind, Ticket.caller)
                                    .where(Ticket.call_sid.in_(sid_list[i:i + 500]))).all()
    tickets = {row.call_sid: row for row in rows}
    p1 = [row for row in rows if row.priority == "P1"]
    deadline, progress_at, count = time.monotonic() + PAGE_WAIT, time.monotonic(), -1
    while True:  # pages still queued are on their way: wait while they keep arriving
        messages = stack.fake.messages
        about = defaultdict(list)
        for m in messages:
            found = re.search(rf"\b{prefix}-(\d+)\. Reply ACK", m["body"])
            if found:
                about[int(found.group(1))].append(m)
        if len(messages) != count:
            count, progress_at = len(messages), time.monotonic()
        if all(about.get(row.id) for row in p1) or time.monotonic() > min(deadline, progress_at + PAGE_STALL):
            break
        time.sleep(0.5)
    heard_wrong = [c for c, (sid, _, _, heard) in level.voicemails.items()
                   if sid in tickets and heard != str(tickets[sid].id)]
    page_latency, parts, measured_jobs = [], defaultdict(list), []
    jobs = {row.id: job for row, job in zip(p1, Job.fetch_many([f"page-ticket-{row.id}" for row in p1],
                                                              connection=redis_connection))}
    for row in p1:
        first = min((m["requested_at"] for m in about.get(row.id, []) if sids[row.call_sid] in m["body"]),
                    default=None)
        _, sent, sent_counter, _ = level.voicemails[sids[row.call_sid]]
        if first is None or not level.measures(sent_counter):
            continue
        page_latency.append(first - sent)
        job = jobs.get(row.id)
        if job is not None and job.enqueued_at and job.started_at:  # where the page's time went
            measured_jobs.append(job)
            enqueued, started = job.enqueued_at.timestamp(), job.started_at.timestamp()
            parts["webhook_to_enqueued"].append(enqueued - sent)
            parts["queued"].append(started - enqueued)
            parts["job_to_sms_request"].append(first - started)
            if job.ended_at:
                parts["job_run"].append(job.ended_at.timestamp() - started)
    done = sorted((j for j in measured_jobs if j.ended_at), key=lambda j: j.started_at)
    for before, after in zip(done, done[1:]):  # the worker's own time between two jobs, when one was waiting
        if after.enqueued_at and after.enqueued_at <= before.ended_at:
            parts["worker_between_jobs"].append(after.started_at.timestamp() - before.ended_at.timestamp())
    checks = {
        "voicemails": len(level.voicemails),
        "tickets": len(tickets),
        "voicemails_without_ticket": len(set(sids) - set(tickets)),
        "duplicate_tickets": len(rows) - len(tickets),
        "not_p1_emergency": sum(1 for r in rows if (r.priority, r.kind) != ("P1", "emergency_voicemail")),
        "ticket_number_not_heard": len(heard_wrong),
        "ticket_caller_wrong": sum(1 for r in rows if r.caller != sids[r.call_sid]),
        "sms_without_callers_number": sum(1 for r in p1 if about.get(r.id) and not any(
            sids[r.call_sid] in m["body"] for m in about[r.id])),
        "p1_without_sms": sum(1 for r in p1 if not about.get(r.id)),
        "p1_with_more_than_one_sms": sum(1 for r in p1 if len(about.get(r.id, [])) > 1),
        "sms_not_to_primary": sum(1 for r in p1 for m in about.get(r.id, []) if m["to"] != primary),
    }
    checks["ok"] = all(v == 0 for k, v in checks.items() if k not in ("voicemails", "tickets")) \
        and checks["tickets"] == checks["voicemails"]
    return {"checks": checks, "page_latency": page_latency,
            "page_parts": {name: summary(values) for name, values in parts.items()}}


def floor_pages(stack: ProcessStack, level: Level) -> list[float]:
    """The work floor's record-to-first-SMS times of the voicemails sent in the level's window (its
    pages are the stand-in's messages numbered ``WF-…``, naming the caller)."""
    from bench.work_floor import PREFIX

    first: dict[str, float] = {}
    deadline, count, progress_at = time.monotonic() + PAGE_WAIT, -1, time.monotonic()
    while True:
        messages = [m for m in stack.fake.messages if m["body"].startswith(f"{PREFIX}-")]
        for m in messages:
            caller = m["body"].rsplit(" ", 1)[-1]
            first[caller] = min(first.get(caller, m["requested_at"]), m["requested_at"])
        if len(messages) != count:
            count, progress_at = len(messages), time.monotonic()
        if set(level.voicemails) <= set(first) or time.monotonic() > min(deadline, progress_at + PAGE_STALL):
            break
        time.sleep(0.5)
    return [first[caller] - sent for caller, (_, sent, sent_counter, _) in level.voicemails.items()
            if caller in first and level.measures(sent_counter)]


def level_report(level: Level) -> dict:
    """Latencies and rates of the requests sent in the window; calls and errors of the whole level
    (an error in the ramp or the last calls' finish counts too)."""
    measured, seconds = level.measured_requests(), level.measure_until - level.measure_from
    by_path = defaultdict(list)
    for _, path, taken in measured:
        by_path[path].append(taken)
    return {"seconds": round(seconds, 2), "calls_started": level.started, "calls_completed": level.completed,
            "calls_started_in_window": level.started_in_window,
            "requests": len(measured), "errors": len(level.errors),
            "error_samples": level.errors[:5], "all": summary([taken for _, _, taken in measured], seconds),
            "endpoints": {path: summary(values, seconds) for path, values in sorted(by_path.items())}}


def fmt(value: float | None, width: int = 7) -> str:
    return f"{value:{width}.1f}" if value is not None else " " * (width - 1) + "-"


def print_level(n: int, app: dict, floor: dict) -> None:
    print(f"\n== {n} concurrent calls: app {app['calls_completed']}/{app['calls_started']} calls completed "
          f"({app['calls_started_in_window']} started in the {app['seconds']:.0f} s measured), floor "
          f"{floor['calls_completed']}/{floor['calls_started']} ({floor['calls_started_in_window']} in "
          f"{floor['seconds']:.0f} s); errors app {app['errors']} floor {floor['errors']}")
    print(f"  {'endpoint':<28}{'req/s':>7}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'max ms':>8}")
    rows = [(path, s) for path, s in app["endpoints"].items()] + [("all webhooks", app["all"]),
                                                                 ("work floor (same calls)", floor["all"])]
    for name, s in rows:
        print(f"  {name:<28}{s.get('per_second', 0):7.1f}{fmt(s['p50_ms'], 8)}{fmt(s['p95_ms'], 8)}"
              f"{fmt(s['p99_ms'], 8)}{fmt(s['max_ms'], 8)}")
    for name, page in (("record -> first SMS request", app["page"]), ("work floor: record -> SMS", floor["page"])):
        print(f"  {name:<28}{'':>7}{fmt(page['p50_ms'], 8)}{fmt(page['p95_ms'], 8)}"
              f"{fmt(page['p99_ms'], 8)}{fmt(page['max_ms'], 8)}   ({page['count']} pages)")
    ratios = {"webhook p99": ratio(app["all"], floor["all"], "p99_ms"),
              "page p50": ratio(app["page"], floor["page"], "p50_ms"),
              "page p99": ratio(app["page"], floor["page"], "p99_ms")}
    print("  over the work floor: " + ", ".join(f"{k} {v:.2f}x" if v else f"{k} -" for k, v in ratios.items())
          + f" (target {TARGET_FLOOR_RATIO}x)")
    parts = app["page_parts"]
    if parts:
        print("  page, medians: " + ", ".join(f"{name.replace('_', ' ')} {fmt(s['p50_ms'], 0)} ms"
                                              for name, s in parts.items()))
    cpu, fcpu = app["cpu_cores"], floor["cpu_cores"]
    print(f"  CPU (cores): web {cpu['web']:.2f}, rq workers {cpu['workers']:.2f}, redis {cpu['redis']:.2f}, "
          f"fake twilio {cpu['fake']:.2f}, generator {cpu['generator']:.2f}, other users {cpu['others']:.2f} "
          f"| work floor run: floor {fcpu['floor']:.2f}, redis {fcpu['redis']:.2f}, fake twilio {fcpu['fake']:.2f}, "
          f"generator {fcpu['generator']:.2f}, "
          f"other users {fcpu['others']:.2f}")
    speed, fspeed = app["machine_speed"], floor["machine_speed"]
    if speed.get("slow_share") is not None and fspeed.get("slow_share") is not None:
        print(f"  machine: in slow spells (bench/speed_probe.py) {speed['slow_share']:.0%} of the window (app), "
              f"{fspeed['slow_share']:.0%} (floor); app p99 of webhooks sent at full speed "
              f"{fmt(speed['p99_ms_at_full_speed'], 0)} ms ({speed['requests_at_full_speed']}), in slow spells "
              f"{fmt(speed['p99_ms_in_slow_spells'], 0)} ms ({speed['requests_in_slow_spells']})")
    print(f"  generator loop lag p99 {fmt(app['loop_lag_p99_ms'], 0)} ms (app) "
          f"{fmt(floor['loop_lag_p99_ms'], 0)} ms (floor); checks: "
          + ("ok" if app["checks"]["ok"] else "FAILED " + json.dumps(app["checks"])))


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = [row["concurrent_calls"] for row in results["levels"]]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.0), dpi=100)
    for ax, figure, title in ((axes[0], lambda row, who: row[who]["all"], "Webhook latency"),
                              (axes[1], lambda row, who: row[who]["page"], "Record to first SMS request")):
        for who, colour in (("app", "tab:red"), ("floor", "tab:blue")):
            for p, style in (("p99_ms", "-o"), ("p50_ms", "--o")):
                ax.plot(levels, [figure(row, who)[p] for row in results["levels"]], style, color=colour,
                        label=f"{'support line' if who == 'app' else 'work floor'} {p[:3]}")
        ax.set_xlabel("concurrent calls")
        ax.set_ylabel("ms")
        ax.set_yscale("log")
        ax.set_xticks(levels)
        ax.set_title(f"{title}, {results['setup']['web_workers']} gunicorn workers, "
                     f"think {results['setup']['think_seconds']} s", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


async def measure(args, stack: ProcessStack, floor_url: str, floor_pids: list[int], redis_pid: int,
                  primary: str, store: Store, probe: SpeedProbe) -> list[dict]:
    rng = random.Random(args.seed)
    connector = aiohttp.TCPConnector(limit=0, force_close=True)  # a new connection per webhook, as from Twilio
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    pids = stack.pids()
    meter = CpuMeter({"web": pids["web"], "workers": pids["workers"], "fake": pids["fake"], "redis": [redis_pid],
                      "floor": floor_pids})
    prefix = stack.config["company"]["ticket_prefix"]
    redis_connection = redis.Redis.from_url(stack.redis_url)
    rows = []
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        app = Driver(session, stack.base_url, args.think, rng)
        # Warm up both servers (imports, connections, the worker's first job); not measured.
        app.think_mean = 0.05
        level = Level.starting_now(0, None)
        await app.run(level, 10, 20, 60)
        if level.errors or level.completed != 20:
            raise SystemExit(f"warm-up failed: {level.errors[:3]}")
        check_level(stack, store, redis_connection, level, primary, prefix)
        floor = Driver(session, floor_url, 0.05, rng, floor_flow=app.learned)
        floor.numbers = app.numbers
        await floor.run(Level.starting_now(0, None), 10, 20, 60)
        app.think_mean = floor.think_mean = args.think
        for n in args.levels:
            limit = args.ramp + (args.duration or (args.calls / n) * 6 * args.think) + 10 * args.think + 120
            row = {"concurrent_calls": n}
            for name, driver in (("app", app), ("floor", floor)):
                print(f"-- {n} concurrent calls: {name} ...", flush=True)
                level, stop = Level.starting_now(args.ramp, args.duration), asyncio.Event()
                lags = asyncio.ensure_future(loop_lag(level, stop))
                cpu = asyncio.ensure_future(meter.over_window(level))
                try:
                    await driver.run(level, n, args.calls, limit)
                finally:
                    stop.set()
                report = level_report(level)
                report["cpu_cores"] = await cpu
                report["loop_lag_p99_ms"] = (percentile(await lags, 99) or 0) * 1000
                report["loadavg_after"] = os.getloadavg()
                report["machine_speed"] = probe.report(level.measure_from, level.measure_until,
                                                       level.measured_requests())
                if args.trace:  # every request, those of the ramp and of the last calls' finish too
                    report["trace"] = [{"sent_s": round(sent - level.measure_from, 4), "path": path,
                                        "ms": round(taken * 1000, 2)} for sent, path, taken in level.requests]
                if name == "app":
                    checked = check_level(stack, store, redis_connection, level, primary, prefix)
                    report["checks"] = checked["checks"]
                    report["page"] = summary(checked["page_latency"])
                    report["page_parts"] = checked["page_parts"]
                else:
                    report["page"] = summary(floor_pages(stack, level))
                row[name] = report
            row["p99_over_floor"] = ratio(row["app"]["all"], row["floor"]["all"], "p99_ms")
            row["page_p50_over_floor"] = ratio(row["app"]["page"], row["floor"]["page"], "p50_ms")
            row["page_p99_over_floor"] = ratio(row["app"]["page"], row["floor"]["page"], "p99_ms")
            print_level(n, row["app"], row["floor"])
            rows.append(row)
    return rows


def ratio(app: dict, floor: dict, key: str) -> float | None:
    return app[key] / floor[key] if app.get(key) and floor.get(key) else None


def resident_mb(pids: list[int]) -> list[float]:
    out = []
    for pid in pids:
        try:
            out.append(round(psutil.Process(pid).memory_info().rss / 2**20, 1))
        except psutil.Error:
            pass
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="50,100,200,300,500", help="concurrent calls per level, comma-separated")
    parser.add_argument("--calls", type=int, help="calls to start after the ramp, per level (default: --duration)")
    parser.add_argument("--duration", type=float, default=20,
                        help="seconds measured per level, after the ramp (default 20)")
    parser.add_argument("--think", type=float, default=2.0, help="mean seconds between a call's webhooks")
    parser.add_argument("--ramp", type=float, help="seconds over which the lanes start their first calls, not "
                        f"measured (default one call's length, {THINKS_PER_CALL} think times)")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers (default 2, as scripts/run)")
    parser.add_argument("--web-threads", type=int, default=8,
                        help="threads per gunicorn worker (default 8, as scripts/run)")
    parser.add_argument("--rq-workers", type=int, default=2,
                        help="python -m dispatch.worker processes (default 2, as scripts/run)")
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: a SQLite file in the work folder)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--trace", action="store_true",
                        help="also write every request (seconds from the window's start, path, latency) to the JSON")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON and PNG")
    args = parser.parse_args(argv)
    args.levels = [int(x) for x in args.levels.split(",") if x.strip()]
    if args.calls:
        args.duration = None
    if args.ramp is None:
        args.ramp = THINKS_PER_CALL * args.think
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    print(f"bench: work folder {work} (logs in {work / 'logs'})")
    load_before = os.getloadavg()
    busy_before = psutil.cpu_percent(interval=5) / 100 * (os.cpu_count() or 1)
    print(f"bench: before starting, the machine's CPUs were {busy_before:.2f} cores busy (5 s sample; other "
          f"users of this machine), load average {load_before[0]:.2f}")
    redis_server = RedisServer(work / "redis").start()
    try:
        with ProcessStack(work, redis_server.url, config=bench_config(), database_url=args.database_url,
                          web_workers=args.web_workers, web_threads=args.web_threads,
                          rq_workers=args.rq_workers) as stack:
            greeting = stack.hooks.post("/voice/incoming", {"CallSid": "CA" + "0" * 32, "AccountSid": ACCOUNT_SID,
                                                            "From": caller_number(1), "To": SUPPORT_NUMBER})[1]
            (work / "greeting.xml").write_text(greeting)
            menu_path = urlsplit(ET.fromstring(greeting).find("Gather").get("action"))
            menu = stack.hooks.post(menu_path.path + "?" + menu_path.query, {
                "CallSid": "CA" + "1" * 32, "AccountSid": ACCOUNT_SID, "From": caller_number(2),
                "To": SUPPORT_NUMBER, "Digits": "501"})[1]
            (work / "menu.xml").write_text(menu)
            primary = stack.api("/api/oncall")["primary"]["mobile"]
            floor_env = {"FLOOR_DB": str(work / "floor.sqlite3"), "FLOOR_REDIS": stack.redis_url,
                         "FLOOR_AUTH_TOKEN": AUTH_TOKEN, "FLOOR_GREETING": str(work / "greeting.xml"),
                         "FLOOR_MENU": str(work / "menu.xml"), "FLOOR_TWILIO": stack.fake.base_url,
                         "FLOOR_PAGE_TO": primary, "FLOOR_PAGE_FROM": SUPPORT_NUMBER}
            floor_web, floor_url = start_gunicorn("work_floor:app", floor_env, stack.logs / "floor.log",
                                                  workers=args.web_workers, threads=args.web_threads,
                                                  extra_args=("--chdir", "bench"))
            floor_workers = [start_floor_worker(floor_env, stack.logs / f"floor-worker-{n}.log")
                             for n in range(args.rq_workers)]
            try:
                wait_until(lambda: _answers(floor_url), "the work floor", 30, (floor_web,))
                floor_pids = [floor_web.pid, *stack_children(floor_web.pid), *(w.pid for w in floor_workers)]
                store = Store(stack.database_url)
                with SpeedProbe(work / "speed.txt") as probe:
                    rows = asyncio.run(measure(args, stack, floor_url, floor_pids, redis_server.process.pid,
                                               primary, store, probe))
                store.dispose()
                memory = {"gunicorn_workers_mb": resident_mb(stack_children(stack.web.pid)),
                          "rq_workers_mb": resident_mb(stack.pids()["workers"])}
                print(f"\nresident memory after the last level: gunicorn workers {memory['gunicorn_workers_mb']} MB, "
                      f"RQ workers {memory['rq_workers_mb']} MB (target at most {TARGET_RSS_MB} MB each)")
            finally:
                stop_process(floor_web)
                for process in floor_workers:
                    stop_process(process)
    finally:
        redis_server.stop()
    results = {
        "when": datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": "bash scripts/bench " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
                    "cores_busy_before_run": round(busy_before, 2)},
        "setup": {"web_workers": args.web_workers, "web_threads": args.web_threads, "rq_workers": args.rq_workers,
                  "database": "sqlite" if not args.database_url else args.database_url.split(":")[0],
                  "think_seconds": args.think, "ramp_seconds": args.ramp, "calls_per_level": args.calls,
                  "duration_per_level": args.duration,
                  "requests_per_call": 6, "connection": "new TCP connection per webhook"},
        "levels": rows,
        "memory_after_last_level": memory,
    }
    verdict = judge(results)
    results["targets"] = verdict
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    json_path, png_path = args.out / f"load-{stamp}.json", args.out / f"load-{stamp}.png"
    json_path.write_text(json.dumps(results, indent=2))
    plot(results, png_path)
    print("\ntargets: " + "; ".join(f"{k}: {v}" for k, v in verdict.items()))
    print(f"wrote {json_path} and {png_path}")
    return 0 if verdict.get("all_met") else 1


def judge(results: dict) -> dict:
    """The targets, read off the figures of the levels run (a target whose level was not run is not judged)."""
    rows = {r["concurrent_calls"]: r for r in results["levels"]}
    out = {"zero_errors_and_checks_ok_at_every_level": all(r["app"]["errors"] == 0 and r["app"]["checks"]["ok"]
                                                           for r in rows.values())}
    for n in WEBHOOK_LEVELS:
        if n in rows and rows[n]["p99_over_floor"] is not None:
            out[f"webhook_p99_within_{TARGET_FLOOR_RATIO}x_at_{n}"] = rows[n]["p99_over_floor"] <= TARGET_FLOOR_RATIO
    for n in PAGE_LEVELS:
        for p in ("p50", "p99"):
            value = rows[n][f"page_{p}_over_floor"] if n in rows else None
            if value is not None:
                out[f"page_{p}_within_{TARGET_FLOOR_RATIO}x_at_{n}"] = value <= TARGET_FLOOR_RATIO
    memory = results["memory_after_last_level"]
    sizes = memory["gunicorn_workers_mb"] + memory["rq_workers_mb"]
    out[f"memory_at_most_{TARGET_RSS_MB}_mb"] = bool(sizes) and max(sizes) <= TARGET_RSS_MB
    out["all_met"] = all(out.values())
    return out


def start_floor_worker(env: dict, log_path: Path):
    import subprocess

    log = open(log_path, "ab")
    try:
        return subprocess.Popen([sys.executable, str(ROOT / "bench" / "work_floor.py"), "worker"], cwd=ROOT,
                                env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    finally:
        log.close()


def _answers(url: str) -> bool:
    import urllib.error
    import urllib.request

    try:
        urllib.request.urlopen(urllib.request.Request(url + "/voice/incoming", data=b"x=1"), timeout=2).close()
        return True
    except urllib.error.HTTPError:
        return True  # it answers (an unsigned request is refused, as it must be)
    except urllib.error.URLError:
        return False


def stack_children(pid: int) -> list[int]:
    return [child.pid for child in psutil.Process(pid).children()]


if __name__ == "__main__":
    raise SystemExit(main())
