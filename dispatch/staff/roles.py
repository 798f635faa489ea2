"""Who may do what in the console: managers everything; technicians everything but the directory,
other people's on-call overrides and calendar links, and giving a ticket to someone else."""
from __future__ import annotations

from core.config import Staff


def is_manager(staff: Staff) -> bool:
    return staff.role == "manager"


def may_use_directory(staff: Staff) -> bool:
    """Clients, contacts, their phones and PINs, and the CSV import."""
    return is_manager(staff)


def may_act_for(staff: Staff, staff_id: str) -> bool:
    """Set or remove an on-call override of ``staff_id``, see or renew their calendar link."""
    return is_manager(staff) or staff.id == staff_id


def may_give_to(staff: Staff, owner_id: str | None) -> bool:
    """Give a ticket to ``owner_id`` (None: to nobody): a manager to anyone, anyone else only to themselves."""
    return is_manager(staff) or (owner_id is not None and owner_id == staff.id)
