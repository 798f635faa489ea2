"""What a client hears on the support line: greeting, menu, desk, voicemail, ticket status."""

PROMPTS = {
    "greeting": "Thank you for calling {company}.",
    "menu": (
        "For support, press {support}. "
        "For account access or password help, press {verification}. "
        "To hear the status of a ticket, press {status}. "
        "For an after-hours emergency, dial extension {extension}, then press pound."
    ),
    "no_input": "Sorry, we did not hear a selection.",
    "invalid_choice": "Sorry, {digits} is not one of the options.",
    "menu_give_up": "Let's take a message instead, so that a technician can call you back.",
    "connecting_desk": "Connecting you to the service desk. Please hold.",
    "desk_unavailable": "Our technicians are all busy helping other clients.",
    "closed": "Our office is closed. We open again {reopening}.",
    "closed_no_hours": "Our office is closed.",
    "emergency_reminder": (
        "If this is an emergency, dial {extension} now. "
        "Otherwise, please stay on the line to leave a message for the next business day."
    ),
    "emergency_intro": (
        "You have reached the emergency line. "
        "The on-call technician is paged as soon as you have left your message."
    ),
    "voicemail_support": (
        "Please leave your name, your company, a number to call you back on, and a short description of the problem "
        "after the tone. Press pound when you are done."
    ),
    "voicemail_after_hours": (
        "Please leave your name, your company, a number to call you back on, and a short description of the problem "
        "after the tone, and we will call you back {reopening}. Press pound when you are done."
    ),
    "voicemail_emergency": (
        "Please describe the emergency after the tone: your name, your company, the number to call you back on, "
        "and what is down. Press pound when you are done."
    ),
    "no_message_heard": "We did not hear a message.",
    "ticket_opened": "Your ticket number is {spelled}. Again, that is {spelled}.",
    "call_logged": "We have logged your call as ticket {spelled}, and a technician will call you back.",
    "emergency_paged": "The on-call technician is being paged now and will call you back shortly.",
    "callback_next_day": "A technician will call you back {reopening}.",
    "callback_soon": "A technician will call you back as soon as possible.",
    "message_saved_no_number": "Your message has been saved, and a technician will call you back.",
    "goodbye": "Thank you for calling. Goodbye.",
    "status_ask": "Please enter your ticket number, followed by pound.",
    "status_found": "Ticket {spelled} is {status}, with priority {priority}.",
    "status_not_found": "We could not find that ticket.",
    "status_again": (
        "To check another ticket, enter its number followed by pound. Or stay on the line to return to the menu."
    ),
    "desk_screen": "Support call from {caller}. Press 1 to accept.",
    "desk_screen_unknown_caller": "an unknown number",
    "technical_difficulty": "We are having technical difficulties, but your message will still reach us.",
    "status_words_new": "open and waiting for a technician",
    "status_words_acknowledged": "being worked on by a technician",
    "status_words_resolved": "resolved",
}
