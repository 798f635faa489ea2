"""A worker killed mid-job (SIGKILL) or a job failing on a locked database: the page still goes out, once.

Real ``python -m dispatch.worker`` processes on the test's Redis server and database,
paging the Twilio stand-in over HTTP. The workers run on the real clock.
"""
import time
from pathlib import Path

import pytest
from rq.job import Job

from dispatch.worker import HOUSEKEEPING_SECONDS
from tests.dispatch_support import (
    database_held,
    emergency_voicemail,
    events,
    primary_now,
    real_time_stack,
    start_worker,
    stop_workers,
    wait_alive,
    wait_until,
    worker_logs,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def night(tmp_path, redis_url, database_url):
    stack = real_time_stack(tmp_path, redis_url, database_url)
    workers = []
    stack.workers = workers
    yield stack
    stop_workers(*workers)
    stack.fake.stop()
    stack.runtime.store.dispose()


def worker(stack, name):
    process = start_worker(stack, name)
    stack.workers.append(process)
    wait_alive(stack, name)
    return process


def held_back_page_job(stack):
    """Leave the emergency voicemail, and take its page job out of the queue until the test lets it run."""
    emergency_voicemail(stack)
    queue = stack.runtime.queue("urgent")
    job = Job.fetch("page-ticket-1", connection=stack.runtime.redis)
    queue.remove(job)
    return queue, job


def running(queue) -> int:
    return len(queue.started_job_registry.get_job_and_execution_ids(cleanup=False))


def settled_pages(stack, to):
    """Wait for the page to be recorded, then two housekeeping rounds more, so that a duplicate would show;
    returns the pages (not a follow-up with the transcript, when it came after the page) and the ticket."""
    wait_until(lambda: events(stack.ticket("CS-000001"), "page_sent"), 60, "the page to be sent and recorded",
               lambda: worker_logs(stack))
    time.sleep(2 * HOUSEKEEPING_SECONDS + 1)
    return pages_of(stack.fake.sms_to(to)), stack.ticket("CS-000001")


def pages_of(messages: list[dict]) -> list[dict]:
    return [m for m in messages if m["body"].startswith("EMERGENCY")]


def test_a_worker_killed_before_its_page_was_stored_is_replaced_and_the_page_goes_out_once(night):
    primary = primary_now(night)
    queue, job = held_back_page_job(night)
    first = worker(night, "first")
    with database_held(night.runtime.store):
        queue.enqueue_job(job)
        wait_until(lambda: running(queue) == 1, 10, "the first worker to take the page job")
        first.kill()  # SIGKILL while the job waits for the database: nothing of it was committed
        first.wait()
    assert night.fake.messages == []
    worker(night, "second")
    messages, ticket = settled_pages(night, primary)
    assert len(messages) == 1 and len(pages_of(night.fake.messages)) == 1
    assert len(events(ticket, "page_sent")) == 1
    assert Job.fetch("page-ticket-1", connection=night.runtime.redis).get_status() == "finished"


@pytest.mark.parametrize("fault", [("hang", 40), ("accept_then_hang", 40)],
                         ids=["before-twilio-created-it", "after-twilio-created-it"])
def test_a_worker_killed_while_sending_is_taken_over_and_the_sms_exists_once(night, fault):
    primary = primary_now(night)
    night.fake.fail_next(fault)
    first = worker(night, "first")
    emergency_voicemail(night)
    wait_until(lambda: night.fake.request_times, 10, "the page request to reach Twilio")
    first.kill()  # SIGKILL mid-request: the page row stays 'sending', the job in RQ's started registry
    first.wait()
    worker(night, "second")
    messages, ticket = settled_pages(night, primary)
    assert len(messages) == 1 and len(pages_of(night.fake.messages)) == 1
    [resumed] = events(ticket, "page_resumed")
    assert resumed["stopped_worker"] == "first" and resumed["staff"]
    [sent] = events(ticket, "page_sent")
    assert sent["sid"] == messages[0]["sid"]
    assert sent.get("adopted") is (True if fault[0] == "accept_then_hang" else None)


def test_a_page_job_failing_on_a_locked_database_is_retried_and_pages_once(night):
    primary = primary_now(night)
    queue, job = held_back_page_job(night)
    worker(night, "only")
    with database_held(night.runtime.store):
        queue.enqueue_job(job)
        # The job waits for the lock, gives up after the store's lock timeout, and fails.
        wait_until(lambda: Job.fetch(job.id, connection=night.runtime.redis).get_status() == "scheduled", 15,
                   "the failed job to be scheduled for a retry")
    assert night.fake.messages == []
    messages, ticket = settled_pages(night, primary)
    assert len(messages) == 1 and len(pages_of(night.fake.messages)) == 1
    assert len(events(ticket, "page_sent")) == 1


def children_of(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux's /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_a_killed_workers_scheduler_stops_too(night):
    """RQ's scheduler is a process the worker forks: a worker killed with SIGKILL (or by the OOM killer)
    must not leave it running on its own, holding the scheduler's lock."""
    first = worker(night, "first")
    wait_until(lambda: children_of(first.pid), 30, "the worker's scheduler to start", lambda: worker_logs(night))
    [scheduler] = children_of(first.pid)
    first.kill()
    first.wait()
    wait_until(lambda: not Path(f"/proc/{scheduler}").exists()
               or Path(f"/proc/{scheduler}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z",
               10, "the orphaned scheduler to stop")
