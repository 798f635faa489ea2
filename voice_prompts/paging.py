"""What on-call staff read and hear: SMS pages, replies to their commands, the voice page,
and the screening of a call put through to the desk or to the on-call mobile.

Always in the company's language; a caller's other language is named ("Spanish speaker").
SMS texts are kept to GSM-7 characters (no curly quotes, no dashes beyond '-', no accents),
so a page stays one segment; ``dispatch.notification.gsm7`` turns and fits them.
"""

PROMPTS = {
    # -- SMS pages and notices ------------------------------------------------------------
    # "EMERGENCY Acme Corp (Jane Doe): "Server down" (42-second voicemail). Call +1.... CS-000001. Reply ACK 1"
    "sms_page": "EMERGENCY{nth} {who}: {what}. {callback}. {number}. Reply ACK {digits}",
    "sms_page_nth": " ({nth} page)",
    "sms_page_unknown_caller": "unknown caller",
    "sms_page_client_contact": "{client} ({contact})",
    "sms_page_speaker": "{who} ({language_name} speaker)",
    "sms_page_callback": "Call {number}",
    "sms_page_withheld": "Number withheld",
    "sms_page_quote": "\"{words}\" ({recording})",
    "sms_page_recording_only": "{recording}, words to follow",
    "sms_page_seconds": "{seconds}-second voicemail",
    "sms_page_minutes": "{minutes}-minute voicemail",
    "sms_page_no_recording": "hung up without a message",
    "sms_transcript": "{number} {who} said: \"{words}\" Reply ACK {digits}",
    "sms_transcript_taken": "{number} {who} said: \"{words}\"",
    "sms_ack_notice": "{number} was taken by {name}. Nothing to do.",
    "sms_resolved_notice": "{number} was resolved by {name}. Nothing to do.",
    "sms_test": "Test from the {company} support line: texts to your phone work. No reply needed.",
    "sms_final_notice": ("{number} NOBODY ACKNOWLEDGED after every on-call step: EMERGENCY {who}. {callback}. "
                         "Reply ACK {digits}"),
    # -- replies to technicians' commands --------------------------------------------------
    "sms_reply_ack": "{number} is yours. {callback}. Reply RES {digits} when fixed, CALL {digits} to ring the caller.",
    "sms_reply_ack_taken": "{number} was already taken by {name}.",
    "sms_reply_someone": "someone",
    "sms_reply_already_resolved": "{number} is already resolved.",
    "sms_reply_res": "{number} is resolved. Thank you.",
    "sms_reply_esc": "{number} is no longer yours: paging {next} now.",
    "sms_reply_esc_you": ("{number}: the next on-call step pages you again, now. "
                          "Reply ESC {digits} again to pass it on."),
    "sms_reply_esc_next_step": "the next on-call step",
    "sms_reply_esc_done": "{number}: every on-call step has been paged already.",
    "sms_reply_call": "Calling you now: answer to be connected to the caller of {number}, shown our support number.",
    "sms_reply_call_withheld": "The caller of {number} withheld their number, so they cannot be called back.",
    "sms_reply_who": "On call: {primary} (primary), {secondary} (secondary), managers {managers}. Until {until}.",
    "sms_reply_person": "{name} {mobile}",
    "sms_reply_nobody": "nobody",
    "sms_reply_help": ("ACK/4: take it. RES/6: fixed. ESC: next person now. CALL: we ring you, then the caller. "
                       "WAIT: on the caller. P1-P4: priority. WHO: on call. Another: ACK 123"),
    "sms_reply_no_page": "You have no open page. Add a ticket number, e.g. ACK 123.",
    "sms_reply_no_ticket": "There is no ticket {given}.",
    # -- the voice page (an outbound call to the technician) ----------------------------
    "voice_page_intro": "This is the {company} on-call line, with an emergency page.",
    "voice_page_keys": "Press {keys}, or star to repeat.",
    "voice_page_key_ack": "4 to acknowledge",
    "voice_page_key_resolve": "6 to resolve",
    "voice_page_key_escalate": "5 to escalate",
    "voice_page_key_connect": "7 to be connected to the caller",
    "voice_page_key_hear": "1 to hear the message",
    "voice_page_ticket": "Ticket {spoken}, from {who}.",
    "voice_page_unknown_caller": "an unknown caller",
    "voice_page_client_contact": "{client}, {contact}",
    "voice_page_speaker": "{who}, a {language_name} speaker",
    "voice_page_caller_number": "Their number is {digits}.",
    "voice_page_withheld": "They withheld their number.",
    "voice_page_transcript": "They said: {transcript}",
    "voice_page_recording_only": "They left a message of {seconds} seconds.",
    "voice_page_no_message": "They left no message.",
    "voice_page_invalid": "Sorry, that is not one of the options.",
    "voice_page_unanswered": "The page was not acknowledged, so it goes on to the next person. Goodbye.",
    "voice_page_acknowledged": "Acknowledged. Ticket {spoken} is yours. Goodbye.",
    "voice_page_resolved": "Ticket {spoken} is now resolved. Goodbye.",
    "voice_page_escalated": "Escalated. Paging {next} now. Ticket {spoken} is no longer yours. Goodbye.",
    "voice_page_escalated_you": "The next on-call step pages you again, now. Goodbye.",
    "voice_page_esc_done": "Every on-call step has been paged already. Goodbye.",
    "voice_page_connecting": ("Ticket {spoken} is yours. Connecting you to the caller. "
                              "They will see our support number."),
    "voice_page_taken": "Ticket {spoken} was already taken by {name}. Goodbye.",
    "voice_page_someone": "someone",
    "voice_page_already_resolved": "Ticket {spoken} is already resolved. Goodbye.",
    "voice_page_gone": "This page is no longer active. Goodbye.",
    "voice_page_error": "Sorry, this page could not be loaded. Please check your text messages. Goodbye.",
    # -- CALL: the technician is rung, then bridged to the caller ------------------------
    "voice_bridge_connecting": "Connecting you to the caller of ticket {spoken}. They will see our support number.",
    "voice_bridge_withheld": "The caller withheld their number, so we cannot connect you. Goodbye.",
    "voice_bridge_withheld_menu": "The caller withheld their number, so we cannot connect you.",
    "voice_bridge_result": "The call to the caller has ended. Goodbye.",
    "voice_bridge_no_answer": "The caller did not answer. Goodbye.",
    # -- screening: a call put through to the desk or to the on-call mobile --------------
    "desk_screen": "Support call from {who}. Press 1 to accept.",
    "desk_screen_emergency": "Emergency call from {who}. Press 1 to accept.",
    "screen_unknown_caller": "an unknown number",
    "oncall_screen": "Emergency call from {who}. Press 1 to take it.",
    "oncall_taken": "Ticket {spoken} is yours. Connecting you now.",
    # -- languages, as the company names them -----------------------------------------------
    "language_name_es": "Spanish",
}


def voice_page_keys(connect: bool, hear: bool) -> str:
    """The voice page's keys, said before the message: only those that do something on this page."""
    from voice_prompts import say

    parts = ["voice_page_key_ack", "voice_page_key_resolve", "voice_page_key_escalate"]
    parts += ["voice_page_key_connect"] if connect else []
    parts += ["voice_page_key_hear"] if hear else []
    return say("voice_page_keys", keys=", ".join(say(part) for part in parts))
