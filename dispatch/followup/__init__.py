"""Tickets that get worked: their lifecycle (waiting on the caller, resolved, reopened, closed),
the texts their callers get and the replies they send, the call-back list and its morning
digest."""
