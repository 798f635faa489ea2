"""What a client hears on the support line: greeting, menu, desk, voicemail, ticket status.

The emergency extension comes right after the greeting, so that a caller in trouble can
act within about six seconds of the pickup (some fifteen words). Each call promises the
call back once, at the end, with when.
"""

PROMPTS = {
    "greeting": "Thank you for calling {company}.",
    "emergency_first": "If this is an emergency, dial {extension} now, at any time.",
    # Said in the language it offers, with that language's voice (see voice_prompts.es).
    "language_offer": "For English, press {digit}.",
    "menu": (
        "For support, press {support}. "
        "For account access or password help, press {verification}. "
        "To hear the status of a ticket, press {status}."
    ),
    "menu_repeat": "To hear the options again, press star.",
    "desk_offer": "For the service desk, press {digit}.",
    "no_input": "Sorry, we did not hear a selection.",
    "invalid_choice": "Sorry, {keys} is not one of the options.",
    "menu_give_up": "Let's take a message instead.",
    "emergency_question": (
        "Is this an emergency? Press 1 for yes. "
        "Otherwise, stay on the line to leave a message for the next business day."
    ),
    "connecting_desk": "Connecting you to the service desk. Please hold.",
    "desk_unavailable": "Our technicians are all busy helping other clients.",
    "closed": "Our office is closed. We open again {reopening}.",
    "closed_no_hours": "Our office is closed.",
    "emergency_reminder": (
        "If this is an emergency, dial {extension} now. "
        "Otherwise, please stay on the line to leave a message for the next business day."
    ),
    "emergency_intro": "You have reached the emergency line.",
    "oncall_connecting": "Connecting you to the on-call technician. Please hold.",
    "oncall_unavailable": "The on-call technician could not answer right away, and is paged with your message.",
    "voicemail_support": (
        "Please leave your name, your company, a number to call you back on, and a short description of the problem "
        "after the tone. Press pound when you are done."
    ),
    "voicemail_emergency": (
        "After the tone, tell us your name, your company, a number to reach you, and what is down. "
        "Then press pound."
    ),
    "no_message_heard": "We did not hear a message.",
    "speak_again": "Please speak after the tone, then press pound.",
    "ticket_opened": "Your ticket number is {spoken}. Again, that is ticket {spoken}.",
    "call_logged": "We have logged your call as ticket {spoken}.",
    "message_saved_no_number": "Your message has been saved.",
    "emergency_paged": (
        "The on-call technician is being paged now and will call you back within {minutes} minutes. "
        "If you have not heard from us by then, call again and dial {extension}."
    ),
    "callback_next_day": "A technician will call you back {reopening}.",
    "callback_soon": "A technician will call you back as soon as possible.",
    "goodbye": "Thank you for calling. Goodbye.",
    "status_ask": "Please enter your ticket number on your keypad, just the digits, followed by pound.",
    "status_found": "Ticket {spoken} is {status}, at {priority} priority.",
    "status_not_found": "We could not find that ticket.",
    "status_again": "To check another ticket, enter its number followed by pound.",
    "status_stay": "Or stay on the line to return to the menu.",
    "technical_difficulty": "We are having technical difficulties, but your message will still reach us.",
    "status_words_new": "open and waiting for a technician",
    "status_words_acknowledged": "being worked on by a technician",
    "status_words_resolved": "resolved",
    "priority_words_P1": "urgent",
    "priority_words_P2": "high",
    "priority_words_P3": "normal",
    "priority_words_P4": "low",
}
