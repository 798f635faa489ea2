"""What staff read in the operator console beyond its pages' own labels (kept in its templates):
a ticket's timeline in words, the answers to what they did, and their calendar feed.

Sign-in refusals are one sentence whatever went wrong, so that the page never tells whether
a staff id exists, has a password, or is locked.
"""

PROMPTS = {
    # -- signing in ---------------------------------------------------------------------------
    "console_sign_in_refused": ("Sign-in refused: the staff id and password do not match, or sign-in is locked "
                                "for {minutes} minutes after {attempts} failed attempts."),
    "console_signed_out": "You are signed out.",
    "console_form_expired": "The form had expired, so nothing was done: please try again.",
    "console_store_unavailable": ("The ticket store is unavailable; try again shortly. Calls are still answered, "
                                  "and voicemails are kept until it is back."),
    "console_managers_only": "This page is for managers. Ask a manager if you need something here.",
    "console_not_found": "There is no such page or ticket.",
    # -- where a P1's escalation stands --------------------------------------------------------
    "console_standing_not_paged": "not paged yet",
    "console_standing_first": "its first step is due",
    "console_standing_stopped": "stopped: {outcome}",
    "console_standing_step": "round {round}, step {step} of {steps}: {notify} by {channel}",
    "console_notify_primary": "the primary",
    "console_notify_secondary": "the secondary",
    "console_notify_managers": "the managers",
    # -- ticket actions --------------------------------------------------------------------------
    "console_acknowledged": "{number} is yours: acknowledged.",
    "console_ack_taken": "{number} was already acknowledged by {name}.",
    "console_already_resolved": "{number} is already resolved.",
    "console_resolved": "{number} is resolved.",
    "console_note_added": "Your note is on the timeline of {number}.",
    "console_calling_you": ("Calling you now on {mobile}: answer, and you are connected to the caller of {number}, "
                            "who sees the support number."),
    "console_call_withheld": "The caller of {number} withheld their number, so they cannot be called back.",
    "console_call_refused": ("The caller of {number} cannot be called back from here ({reason}): only the caller "
                             "of a voicemail or missed call, on an ordinary line in a country we call."),
    "console_someone": "someone",
    "console_recording_unavailable": "The recording could not be fetched from the carrier; try again shortly.",
    # -- schedule ----------------------------------------------------------------------------------
    "console_override_added": "{name} is primary on call from {starts} to {ends}.",
    "console_override_removed": "The override of {name} from {starts} to {ends} is removed.",
    "console_override_gone": "That override was already removed.",
    "console_override_bad_time": "Give the {which} as a date and time, such as 2026-11-24T18:00.",
    "console_calendar_renewed": "The calendar link of {name} is new: the old one no longer works.",
    # -- directory -------------------------------------------------------------------------------
    "console_import_no_file": "Choose a CSV file to import.",
    "console_import_not_utf8": ("The file is not UTF-8 text: save it from your spreadsheet as \"CSV UTF-8\" "
                                "and try again."),
    "console_too_large": "That was more than this page takes.",
    "console_import_too_big": "The file is larger than {mb} MB: split it, and import the parts one after another.",
    # -- the timeline, in words: {who} is a staff member's name, {via} how they did it ----------
    "console_via_sms": "by SMS",
    "console_via_voice": "on a voice page",
    "console_via_console": "in the console",
    "console_via_api": "through the API",
    "console_channel_sms": "SMS",
    "console_channel_voice": "a phone call",
    "console_box_support": "support",
    "console_box_after_hours": "after-hours",
    "console_box_emergency": "emergency",
    "console_box_fallback": "fallback (the line was failing)",
    "console_event_created": "Ticket opened from a call to the {box} voicemail, from {caller}.",
    "console_event_created_plain": "Ticket opened.",
    "console_event_recording": "Recording received: {seconds} seconds.",
    "console_event_recording_absent": "The caller left no recording.",
    "console_event_recording_failed": "The recording failed at the carrier.",
    "console_event_transcript": "Transcript received: {words} words.",
    "console_event_transcript_failed": "Transcription failed: listen to the recording.",
    "console_event_another_recording": "Another recording of the same call arrived.",
    "console_event_another_transcript": "Another transcript of the same call arrived.",
    "console_event_page_requested": "Paging the on-call staff began.",
    "console_event_escalation_step": "Escalation round {round}, step {step}: paging {people} by {channel}.",
    "console_event_escalation_step_early": ("Escalation round {round}, step {step}, early ({reason}): "
                                            "paging {people} by {channel}."),
    "console_event_page_sent": "Page sent to {who} by {channel}.",
    "console_event_page_retry": "Page to {who} by {channel} not sent ({error}); trying again in {seconds} seconds.",
    "console_event_page_failed": "Page to {who} by {channel} failed: {error}.",
    "console_event_page_resumed": "Page to {who} by {channel} taken over from a stopped worker.",
    "console_event_delivery": "Page to {who} by {channel}: {status}.",
    "console_event_delivery_timeout": "Page to {who} by {channel} not delivered within {minutes} minutes.",
    "console_event_notice_sent": "{who} was told someone took it.",
    "console_event_final_notice_sent": "{who} was told nobody acknowledged.",
    "console_event_unacknowledged": "Nobody acknowledged after {rounds} rounds of paging: the managers were told.",
    "console_event_acknowledged": "Acknowledged by {who} {via}.",
    "console_event_resolved": "Resolved by {who} {via}.",
    "console_event_reopened": "Reopened by {who} {via}.",
    "console_event_others_notified": "Told {people} that {who} {about} it.",
    "console_about_acknowledged": "took",
    "console_about_resolved": "resolved",
    "console_event_reply": "{who} replied {command} by SMS.",
    "console_event_note": "Note by {who} {via}:",
    "console_event_callback_requested": "{who} asked {via} to call the caller back: their phone rings first.",
    "console_event_callback_call": "Ringing {who} to connect them to the caller.",
    "console_event_callback": "{who}'s call to the caller: {status}, {seconds} seconds.",
    "console_event_verification_started": "The caller asked to verify who they are.",
    "console_event_caller_identified": "The caller was identified as {contact} of {client}.",
    "console_event_caller_not_identified": "The caller was not identified: {reason}.",
    "console_event_pin_failed": "A wrong PIN was entered (attempt {attempt}).",
    "console_event_pin_locked": "PIN entry locked for {contact} after {failures} failures.",
    "console_event_verified": "Verified as {contact} by {method} until {until}.",
    "console_event_verification_callback_requested": "A verification call back to {to} was requested.",
    "console_event_generic": "{event}",
    "console_nobody": "nobody",
    "console_anonymous_caller": "a withheld number",
    # -- the calendar feed --------------------------------------------------------------------------
    "calendar_name": "{name}: on call for {company}",
    "calendar_primary": "On call (primary) for {company}",
    "calendar_secondary": "On call (secondary) for {company}",
    "calendar_description": "Primary: {primary}. Secondary: {secondary}. Pages go to {mobile}.",
    "calendar_nobody": "nobody",
}
