"""Jobs: the outbox, scheduling on RQ, and recovery of what a dead worker left.

``enqueue`` hands a job to RQ now or at a time; ``enqueue_after_commit`` records it with
the change that calls for it, to be handed over once that change has committed.
"""
from dispatch.jobs.outbox import enqueue_after_commit, flush
from dispatch.jobs.schedule import DEFAULT, QUEUE_NAMES, URGENT, enqueue, enqueue_many, job_id

__all__ = ["DEFAULT", "QUEUE_NAMES", "URGENT", "enqueue", "enqueue_after_commit", "enqueue_many", "flush", "job_id"]
