"""Jobs: the outbox, scheduling on RQ, and recovery of what a dead worker left.

``enqueue`` hands a job to RQ now or at a time; ``enqueue_after_commit`` records it with
the change that calls for it, to be handed over once that change has committed.
"""
from dispatch.jobs.outbox import enqueue_after_commit, flush
from dispatch.jobs.schedule import DEFAULT, QUEUE_NAMES, URGENT, enqueue, enqueue_many, job_id

__all__ = ["DEFAULT", "QUEUE_NAMES", "URGENT", "enqueue", "enqueue_after_commit", "enqueue_many", "flush", "job_id"]


# Jobs queued in Redis by the release before the domains had packages name their functions
# ``dispatch.jobs.<name>``: RQ finds them here, where they live now.
_MOVED = {"page_ticket": "dispatch.escalation.steps", "escalate": "dispatch.escalation.steps",
          "escalate_now": "dispatch.escalation.steps", "notify_others": "dispatch.escalation.responses",
          "send_page": "dispatch.notification.delivery", "check_delivery": "dispatch.notification.delivery"}


def __getattr__(name: str):
    if name in _MOVED:
        from importlib import import_module

        return getattr(import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
