"""The escalation policy's timing, as pure rules: when each position of a ticket's policy is due.

Step s of round r is due ``after_minutes`` of that step after the round began; round
0 begins at the first page. The policy repeats ``oncall.repeat`` times: each round
begins as long after the previous round's last step as that step came after the one
before it (5 minutes when every step is at once). One position past the last round is
the "nobody acknowledged" notice to the managers.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from core.config import Config
from dispatch.escalation.models import Escalation

ALL_AT_ONCE_GAP_MINUTES = 5


def round_minutes(config: Config) -> int:
    minutes = [step.after_minutes for step in config.escalation]
    gaps = [b - a for a, b in zip(minutes, minutes[1:]) if b > a]
    return minutes[-1] + (gaps[-1] if gaps else ALL_AT_ONCE_GAP_MINUTES)


def final_position(config: Config) -> int:
    return len(config.escalation) * (config.escalation_repeat + 1)


def step_of(config: Config, position: int) -> tuple[int, int] | None:
    """(round, step) of ``position``, both counted from 1; None for the final notice (or past it)."""
    if position < 0 or position >= final_position(config):
        return None
    rounds, step = divmod(position, len(config.escalation))
    return rounds + 1, step + 1


def due_at(config: Config, started_at: datetime, position: int) -> datetime:
    rounds, step = divmod(position, len(config.escalation))
    minutes = rounds * round_minutes(config)
    if position < final_position(config):
        minutes += config.escalation[step].after_minutes
    return started_at + timedelta(minutes=minutes)


def begin_now(config: Config, ticket_id: int, now) -> Escalation:
    """A policy beginning at ``now`` with its first position; ``next_due_at`` is what the recovery
    sweep watches, should the job that runs that position be lost."""
    return Escalation(ticket_id=ticket_id, started_at=now, next_position=0, next_due_at=due_at(config, now, 0))


def reopen(config: Config, escalation: Escalation, now) -> None:
    """Restart a policy an ACK or RES stopped, for ESC: its next position goes on as if the position
    before it had just run (so ESC brings it forward, as on a running policy), the later ones at
    their usual spacing from there.

    Left on the old schedule, every position that fell due while the policy was stopped would run
    at once: a page to each level within the second.
    """
    position = escalation.next_position
    ran_last = due_at(config, escalation.started_at, position - 1) if position > 0 else escalation.started_at
    escalation.started_at = now - (ran_last - escalation.started_at)
    escalation.next_due_at = due_at(config, escalation.started_at, position)
    escalation.finished_at = escalation.outcome = None
