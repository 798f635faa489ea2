"""On call: the weekly rotation, temporary overrides, and who is primary, secondary and manager."""
from dispatch.oncall.rotation import (
    OnCall,
    Shift,
    add_override,
    cancel_override,
    find_override,
    on_call,
    override_refusal,
    overrides_near,
    schedule,
    upcoming_overrides,
    who,
)

__all__ = ["OnCall", "Shift", "add_override", "cancel_override", "find_override", "on_call", "override_refusal",
           "overrides_near", "schedule", "upcoming_overrides", "who"]
