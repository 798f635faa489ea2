"""Who may do what in the console: managers everything; technicians everything but the directory
and other people's on-call overrides and calendar links."""
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
