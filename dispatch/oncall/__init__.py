"""On call: the weekly rotation, temporary overrides, and who is primary, secondary and manager."""
from dispatch.oncall.rotation import OnCall, add_override, cancel_override, on_call, overrides_near, who

__all__ = ["OnCall", "add_override", "cancel_override", "on_call", "overrides_near", "who"]
