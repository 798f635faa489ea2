"""What callers read while their ticket is worked, what they hear of its new states, and what
staff read about service targets, reopened tickets, ratings and the morning's call-backs.

Texts are plain GSM-7 (one segment where the variable parts allow); a caller's texts say
which ticket they are about and how to answer.
"""

PROMPTS = {
    # -- texts to a ticket's caller ----------------------------------------------------------
    "followup_confirm": "{company}: your call is logged as ticket {number}. A technician will call you back.",
    "followup_reminder": ("{company}: we are waiting for your reply on ticket {number} to go on. "
                          "Reply to this message or call us on {support}."),
    "followup_resolved": ("{company}: ticket {number} is resolved. "
                          "Reply REOPEN {digits} within {within} if it is not fixed."),
    "followup_resolved_no_contact": ("{company}: we did not hear back from you, so ticket {number} is resolved. "
                                     "Reply REOPEN {digits} within {within} if you still need help."),
    "followup_survey": "How did we do? Reply 1 Poor, 2 Average, 3 Good, 4 Excellent.",
    # -- answers to a caller's replies ------------------------------------------------------------
    "followup_reply_reopened": "Ticket {number} is open again. A technician will contact you.",
    "followup_reply_closed": "Ticket {number} is closed. Please call us on {support}, and we will open a new ticket.",
    "followup_reply_open": "Ticket {number} is still open, and a technician is on it.",
    "followup_reply_received": "Thank you. Your reply is on ticket {number}, and a technician will be in touch.",
    "followup_reply_rated": "Thank you for your feedback on ticket {number}.",
    "followup_reply_not_found": "We could not find ticket {given} for this number. Please call us on {support}.",
    # -- lengths of time, in the texts above ------------------------------------------------------
    "duration_days": "{n} days",
    "duration_day": "1 day",
    "duration_hours": "{n} hours",
    "duration_hour": "1 hour",
    "duration_minutes": "{n} minutes",
    "rating_1": "Poor",
    "rating_2": "Average",
    "rating_3": "Good",
    "rating_4": "Excellent",
    # -- a ticket's new states, on the phone (menu option 3) ----------------------------------------
    "status_words_waiting": "waiting for your reply",
    "status_words_closed": "closed",
    "status_reopen_offer": "If the problem is not fixed, press 1 to reopen this ticket.",
    "status_reopened": "Ticket {spoken} is open again, and a technician will contact you.",
    "status_not_reopened": "This ticket can no longer be reopened. Please leave a message, and we will open a new one.",
    # -- to staff -------------------------------------------------------------------------------
    "sms_sla_warning": "{number} {target} due {when} ({priority} {name}): {who}. {callback}. {action}",
    "sms_sla_breach": "{number} {target} OVERDUE since {when} ({priority} {name}): {who}. {callback}. Owner: {owner}.",
    "sla_target_response": "RESPONSE",
    "sla_target_resolution": "RESOLUTION",
    "sla_action_response": "Reply ACK {digits}",
    "sla_action_resolution": "Reply RES {digits} when fixed",
    "sla_no_owner": "none",
    "sms_reopen_notice": "{number} REOPENED by its caller: {who}. {callback}. Reply ACK {digits}",
    "sms_reply_notice": "{number}: the caller replied: \"{words}\" Reply CALL {digits} to ring them.",
    "sms_rating_notice": "{number} was rated {rating} ({word}) by its caller: {who}. {callback}. Owner: {owner}.",
    "sms_digest": "Good morning: {count} call-backs wait. Most urgent: {items}",
    "sms_digest_one": "Good morning: 1 call-back waits: {items}",
    "sms_digest_item": "{number} {who} {left}",
    "digest_left": "due {when}",
    "digest_overdue": "OVERDUE",
    "digest_no_target": "no target",
    # -- replies to technicians' P1-P4 and WAIT ------------------------------------------------------
    "sms_reply_priority": "{number} is now {priority} ({name}).{due}",
    "sms_reply_priority_due": " Response due {response}, resolution due {resolution}.",
    "sms_reply_priority_resolution_due": " Resolution due {resolution}.",
    "sms_reply_wait": ("{number} waits on the caller: {reminders} reminders, {every} apart, "
                       "then resolved for no contact."),
    "sms_reply_wait_anonymous": "{number} waits on the caller, who withheld their number: no reminders can be sent.",
    "sms_reply_already_waiting": "{number} is already waiting on the caller.",
    "sms_reply_closed": "{number} is closed.",
}
