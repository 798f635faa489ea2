"""What on-call staff read and hear: SMS pages, replies to their commands, the voice page.

SMS texts are kept to plain GSM-7 characters (no curly quotes, no dashes beyond '-'),
so a page stays one segment; ``dispatch.sms_text`` checks and fits them.
"""

PROMPTS = {
    # -- SMS pages and notices ------------------------------------------------------------
    "sms_page": "{number} EMERGENCY: {who}, {callback}, {recording}. {quote}Reply ACK {digits}",
    "sms_page_repeat": "{number} STILL UNANSWERED: {who}, {callback}, {recording}. {quote}Reply ACK {digits}",
    "sms_page_unknown_caller": "unknown caller",
    "sms_page_callback": "call {number}",
    "sms_page_withheld": "number withheld",
    "sms_page_recording": "{minutes}:{seconds:02d} msg",
    "sms_page_no_recording": "no message",
    "sms_page_quote": "\"{words}\" ",
    "sms_ack_notice": "{number} was taken by {name}. Nothing to do.",
    "sms_resolved_notice": "{number} was resolved by {name}. Nothing to do.",
    "sms_final_notice": ("{number} NOBODY ACKNOWLEDGED after every on-call step: {who}, {callback}. "
                         "Reply ACK {digits}"),
    # -- replies to technicians' commands --------------------------------------------------
    "sms_reply_ack": "{number} is yours. {callback}. Reply RES {digits} when fixed, CALL {digits} to ring the caller.",
    "sms_reply_ack_taken": "{number} was already taken by {name}.",
    "sms_reply_someone": "someone",
    "sms_reply_already_resolved": "{number} is already resolved.",
    "sms_reply_res": "{number} is resolved. Thank you.",
    "sms_reply_esc": "{number}: paging the next on-call step now.",
    "sms_reply_esc_done": "{number}: every on-call step has been paged already.",
    "sms_reply_call": "Calling you now: answer to be connected to the caller of {number}, shown our support number.",
    "sms_reply_call_withheld": "The caller of {number} withheld their number, so they cannot be called back.",
    "sms_reply_who": "On call: {primary} (primary), {secondary} (secondary), managers {managers}. Until {until}.",
    "sms_reply_nobody": "nobody",
    "sms_reply_help": ("Reply ACK, RES, ESC, CALL, WAIT or P1-P4, then a ticket number (none: your latest page). "
                       "WHO: who is on call."),
    "sms_reply_no_page": "You have no open page. Add a ticket number, e.g. ACK 123.",
    "sms_reply_no_ticket": "There is no ticket {given}.",
    # -- the voice page (an outbound call to the technician) ----------------------------
    "voice_page_intro": "This is the {company} on-call line, with an emergency page.",
    "voice_page_ticket": "Ticket {spelled}, from {who}.",
    "voice_page_unknown_caller": "an unknown caller",
    "voice_page_caller_number": "Their number is {digits}.",
    "voice_page_withheld": "They withheld their number.",
    "voice_page_transcript": "They said: {transcript}",
    "voice_page_recording_only": "They left a message of {seconds} seconds.",
    "voice_page_no_message": "They left no message.",
    "voice_page_menu": "Press 4 to acknowledge, 6 to resolve, 1 to hear the message, or star to repeat.",
    "voice_page_menu_no_recording": "Press 4 to acknowledge, 6 to resolve, or star to repeat.",
    "voice_page_invalid": "Sorry, that is not one of the options.",
    "voice_page_unanswered": "The page was not acknowledged, so it goes on to the next person. Goodbye.",
    "voice_page_acknowledged": "Acknowledged. Ticket {spelled} is yours. Goodbye.",
    "voice_page_resolved": "Ticket {spelled} is now resolved. Goodbye.",
    "voice_page_taken": "Ticket {spelled} was already taken by {name}. Goodbye.",
    "voice_page_someone": "someone",
    "voice_page_already_resolved": "Ticket {spelled} is already resolved. Goodbye.",
    "voice_page_gone": "This page is no longer active. Goodbye.",
    "voice_page_error": "Sorry, this page could not be loaded. Please check your text messages. Goodbye.",
    # -- CALL: the technician is rung, then bridged to the caller ------------------------
    "voice_bridge_connecting": "Connecting you to the caller of ticket {spelled}. They will see our support number.",
    "voice_bridge_withheld": "The caller withheld their number, so we cannot connect you. Goodbye.",
    "voice_bridge_result": "The call to the caller has ended. Goodbye.",
    "voice_bridge_no_answer": "The caller did not answer. Goodbye.",
}
