"""Twilio's words for how a message or call went, turned into the notification domain's states.

Policy code never sees these strings: the webhooks (``ivr``) and the REST adapter pass
each through here first.
"""
from __future__ import annotations

from dispatch.notification.carrier import DeliveryReport, DeliveryState

# Twilio REST error codes that no retry will fix.
PERMANENT_CODES = {21211, 21214, 21217, 21219, 21401, 21408, 21610, 21612, 21614, 13224, 13223}
# Delivery error codes (status callbacks) of a number that will never get an SMS this way: a
# landline (30006), an unknown number (30005), an unregistered sender (30034), STOP (21610),
# not a mobile number (21614).
PERMANENT_DELIVERY_CODES = {"30005", "30006", "30034", "21610", "21614"}

_MESSAGE = {"accepted": DeliveryState.SENDING, "scheduled": DeliveryState.SENDING, "queued": DeliveryState.SENDING,
            "sending": DeliveryState.SENDING, "sent": DeliveryState.SENT, "delivered": DeliveryState.DELIVERED,
            "read": DeliveryState.DELIVERED, "undelivered": DeliveryState.FAILED_TEMPORARILY,
            "failed": DeliveryState.FAILED_TEMPORARILY, "canceled": DeliveryState.FAILED}
_CALL = {"queued": DeliveryState.SENDING, "initiated": DeliveryState.SENDING, "ringing": DeliveryState.SENT,
         "in-progress": DeliveryState.ANSWERED, "answered": DeliveryState.ANSWERED,
         "completed": DeliveryState.DELIVERED, "busy": DeliveryState.FAILED_TEMPORARILY,
         "no-answer": DeliveryState.FAILED_TEMPORARILY, "canceled": DeliveryState.FAILED_TEMPORARILY,
         "failed": DeliveryState.FAILED}


def state_of(status: str | None, call: bool = False, error_code: str | None = None) -> DeliveryState | None:
    """The state of a message (or ``call``) Twilio reports as ``status``; None for a word it does
    not know (Twilio adds statuses without notice: an unknown one changes nothing)."""
    state = (_CALL if call else _MESSAGE).get(status or "")
    if state is DeliveryState.FAILED_TEMPORARILY and error_code in PERMANENT_DELIVERY_CODES:
        return DeliveryState.FAILED
    return state


# How a <Dial> ended (its DialCallStatus), in the domain's words.
_DIAL = {"completed": "connected", "answered": "connected", "busy": "busy", "no-answer": "no_answer",
         "failed": "failed", "canceled": "canceled"}


def dial_outcome(status: str | None) -> str:
    """``connected``, ``busy``, ``no_answer``, ``failed``, ``canceled``, or ``unknown`` for a word Twilio
    added since. "connected" says only that the dialled phone picked up: its own voicemail may have."""
    return _DIAL.get(status or "", "unknown")


def is_machine(answered_by: str | None) -> bool:
    """Whether Twilio's answering-machine detection says a machine or a fax picked up."""
    return bool(answered_by) and (answered_by.startswith("machine") or answered_by == "fax")


def report(status: str | None, *, call: bool, error_code: str | None = None,
           answered_by: str | None = None) -> DeliveryReport | None:
    """A status callback in neutral terms; None when it says nothing this domain knows."""
    state = state_of(status, call, error_code)
    if state is None:
        return None
    return DeliveryReport(state=state, detail=status, error_code=error_code or None,
                          machine=is_machine(answered_by), answered_by=answered_by or None)


# Opt-out, opt-in and info keywords Twilio answers itself (Advanced Opt-Out defaults): a text
# that is one of them is Twilio's business, not a command.
CARRIER_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT",
                              "START", "YES", "UNSTOP", "INFO"})


OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})


def _keyword(body: str | None) -> str:
    return (body or "").strip().strip("'\"\u2018\u2019\u201c\u201d.!?").strip().upper()


def is_carrier_keyword(body: str | None) -> bool:
    """Whether the whole text is one of Twilio's keywords (quotes and a full stop aside)."""
    return _keyword(body) in CARRIER_KEYWORDS


def opts_out(body: str | None) -> bool | None:
    """True for an opt-out keyword (Twilio stops every text to the sender), False for an opt-in one
    (texts may go again), None for anything else."""
    word = _keyword(body)
    return True if word in OPT_OUT_KEYWORDS else False if word in OPT_IN_KEYWORDS else None
