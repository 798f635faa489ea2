"""What staff read and callers hear when a safeguard says no: CALL refused and why, a command
on someone else's ticket, the locks on PIN entry, ticket status to an unverified caller.

SMS texts keep to GSM-7 characters, as every page does (``voice_prompts.paging``).
"""

PROMPTS = {
    # -- CALL refused, by SMS to the technician who asked ----------------------------------
    "sms_reply_call_not_a_caller": ("{number} is a {kind} ticket: CALL rings only the caller of a voicemail or "
                                    "missed call. Verified people are offered a technician on our call back."),
    "sms_reply_call_bad_type": "CALL refused: the caller of {number} shows a {detail} number ({caller}), not an "
                               "ordinary line. Call them yourself only if you know it.",
    "sms_reply_call_bad_country": "CALL refused: the caller of {number} shows a number in {detail} ({caller}), "
                                  "outside the countries we call ({allowed}).",
    "voice_bridge_refused": "This call can no longer be connected. Please check your text messages. Goodbye.",
    # -- a burst of emergencies, in one SMS ------------------------------------------------
    "sms_burst": "{count} new emergencies: {numbers}. Reply ACK n for each, e.g. ACK {digits}",
    "sms_burst_one": "1 new emergency: {numbers}. Reply ACK {digits}",
    "sms_burst_more": " and {count} more",
    # -- commands on a ticket not paged to the sender --------------------------------------
    "sms_reply_not_yours": "{number} is not yours and was not paged to you, so you cannot {command} it. "
                           "Ask the on-call or a manager.",
    # -- ticket status by phone (menu option 3), to a caller not verified on this call ------
    "status_assigned": "Ticket {spoken} has been assigned to a technician.",
    "status_not_assigned": "Ticket {spoken} has not been assigned to a technician yet.",
    # -- the PIN lock notice, to the on-call technician ------------------------------------
    "verify_security_notice_reset_sms": (
        "SECURITY NOTICE: {failures} wrong portal PINs in a row for {contact} ({client}), lock number {locks}. "
        "PIN entry stays locked until a manager resets it. See ticket {ticket}. If the client did not make "
        "these calls, someone may be trying to impersonate them."
    ),
}
# What a caller hears, in their language; the rest is for staff.
CALLER_PROMPTS = frozenset({"status_assigned", "status_not_assigned"})
