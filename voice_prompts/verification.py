"""What a caller hears while proving who they are, what the person called back hears,
how a one-time secret is spelled out, and the on-call technician's security notice.

The answers are worded so that they never tell whether a number or a contact is on
file: an unknown number, a contact with no PIN and a locked contact hear the same.
"""

PROMPTS = {
    # -- the inbound call (menu option 2) -----------------------------------------------------
    "verify_ask_number": (
        "To verify your identity, please enter the phone number we have on file for you, "
        "including the area code, followed by pound."
    ),
    "verify_no_input": "Sorry, we did not hear anything.",
    "verify_bad_number": "Sorry, that does not look like a complete phone number.",
    "verify_number_give_up": "We could not take a phone number. Returning to the main menu.",
    "verify_ask_pin": (
        "Please enter the PIN you set on our client portal, followed by pound. "
        "If you have no PIN, or would rather we call you back at the number we have on file, press star."
    ),
    "verify_pin_not_accepted": "That PIN was not accepted.",
    "verify_callback_promise": (
        "We will hang up now and call you back at the number we have on file, if it matches our records. "
        "If no call comes within five minutes, please call us again later."
    ),
    "verify_verified": (
        "Thank you. You are verified on this call, and your technician can see this on ticket {spoken}."
    ),
    # What happens next, once verified: the desk in business hours, else a message (or 501).
    "verify_next_open": (
        "To speak to the service desk now, press {digit}, or stay on the line. For the main menu, press star."
    ),
    "verify_next_closed": (
        "To leave a message for a technician, stay on the line. If this is an emergency, dial {extension} now."
    ),
    "verify_message_waiting": (
        "A one-time message is waiting for you. For your security, it is only read on a call back "
        "to the number we have on file."
    ),
    "verify_desk_screen": (
        "Support call from {caller}, verified by PIN on this call as {contact}, of {client}. Press 1 to accept."
    ),
    "verify_unavailable": (
        "Sorry, we cannot complete the verification right now. Please try again later. "
        "Here is the main menu again."
    ),
    "verify_error": "Sorry, we could not complete the verification. Please call us again. Goodbye.",
    # -- the dual callback -------------------------------------------------------------------
    "verify_callback_greeting": (
        "Hello, this is {company}, calling you back because you asked us to verify your identity. "
        "If you asked for this call, press 1. If you did not, please hang up; nothing will change."
    ),
    "verify_callback_machine": "This is {company}, returning your call. Please call us again. Goodbye.",
    "verify_callback_ask_pin": "Please enter the PIN you set on our client portal, followed by pound.",
    "verify_callback_declined": "Nothing has been changed. Goodbye.",
    "verify_callback_failed": "We could not verify your identity on this call. Goodbye.",
    "verify_callback_invalid": "This call could not be verified. Goodbye.",
    "verify_callback_verified": "Thank you, you are verified on this call.",
    "verify_offer_desk": (
        "To speak with our service desk now, press 1. Otherwise, you can hang up, and your technician "
        "will continue with your request."
    ),
    "verify_offer_oncall": (
        "Our office is closed. To speak with the on-call technician now, press 1. Otherwise, you can hang up, "
        "and your technician will continue with your request."
    ),
    "verify_callback_goodbye": "Goodbye.",
    "verify_connecting_desk": "Connecting you to the service desk. Please hold.",
    "verify_connecting_oncall": "Connecting you to the on-call technician. Please hold.",
    "verify_screen": (
        "Verified caller: {contact}, of {client}, verified by our call back to their number on file, "
        "{digits}. Press 1 to accept."
    ),
    "verify_hand_over_unanswered": (
        "Sorry, nobody could take your call right now. Your technician will continue with your request. "
        "Goodbye."
    ),
    # -- a one-time secret ---------------------------------------------------------------------
    "verify_secret_ready": "A one-time message is waiting for you. Have a pen ready. Press 1 when you are ready.",
    "verify_secret_not_read": "The message has not been read. You can ask for another call back to hear it. Goodbye.",
    "verify_secret_intro": (
        "Here is your one-time message. It is {count} characters long, and is read slowly, one character at a time."
    ),
    "verify_secret_end": "That was the end of the message.",
    "verify_secret_choice": "To hear it again, press 1. If you have it, press 9, and it will be deleted.",
    "verify_secret_last": "That was the last time it can be read. The message has now been deleted.",
    "verify_secret_deleted": "The message has been deleted.",
    "verify_char_capital": "capital {letter} as in {word}",
    "verify_char_lower": "lower-case {letter} as in {word}",
    "verify_char_digit": "digit {digit}",
    "verify_char_symbol": "symbol {name}",
    # -- to the on-call technician (SMS) ---------------------------------------------------------
    "verify_security_notice_sms": (
        "SECURITY NOTICE: {failures} wrong portal PINs in a row for {contact} ({client}). "
        "PIN entry is locked until {until}. See ticket {ticket}. If the client did not make these "
        "calls, someone may be trying to impersonate them."
    ),
}
# What the person on the line hears (in their language); the rest is for technicians (the screening
# prompts are heard by whoever picks up at the desk or the on-call mobile).
CALLER_PROMPTS = frozenset(PROMPTS) - {"verify_security_notice_sms", "verify_screen", "verify_desk_screen"}

PHONETIC = {
    "A": "Alfa", "B": "Bravo", "C": "Charlie", "D": "Delta", "E": "Echo", "F": "Foxtrot", "G": "Golf",
    "H": "Hotel", "I": "India", "J": "Juliett", "K": "Kilo", "L": "Lima", "M": "Mike", "N": "November",
    "O": "Oscar", "P": "Papa", "Q": "Quebec", "R": "Romeo", "S": "Sierra", "T": "Tango", "U": "Uniform",
    "V": "Victor", "W": "Whiskey", "X": "X-ray", "Y": "Yankee", "Z": "Zulu",
}

SYMBOLS = {
    " ": "space", "!": "exclamation mark", '"': "double quote", "#": "pound sign", "$": "dollar sign",
    "%": "percent sign", "&": "ampersand", "'": "apostrophe", "(": "open parenthesis",
    ")": "close parenthesis", "*": "asterisk", "+": "plus sign", ",": "comma", "-": "dash",
    ".": "period", "/": "forward slash", ":": "colon", ";": "semicolon", "<": "less-than sign",
    "=": "equals sign", ">": "greater-than sign", "?": "question mark", "@": "at sign",
    "[": "open square bracket", "\\": "backslash", "]": "close square bracket", "^": "caret",
    "_": "underscore", "`": "backtick", "{": "open curly brace", "|": "vertical bar",
    "}": "close curly brace", "~": "tilde",
}

SPEAKABLE = frozenset(PHONETIC) | frozenset(k.lower() for k in PHONETIC) | frozenset("0123456789") | frozenset(SYMBOLS)


def spell_secret(secret: str, language: str = "en") -> list[str]:
    """One phrase per character, so that each can be read with a pause after it:
    'Dx7!' -> ['capital D as in Delta', 'lower-case X as in X-ray', 'digit 7', 'symbol exclamation mark'].
    The phonetic words are the international (NATO) alphabet's in every language."""
    from voice_prompts import es, say

    symbols = es.SYMBOLS if language == "es" else SYMBOLS
    phrases = []
    for ch in secret:
        if ch in "0123456789":
            phrases.append(say("verify_char_digit", language, digit=ch))
        elif ch in PHONETIC:
            phrases.append(say("verify_char_capital", language, letter=ch, word=PHONETIC[ch]))
        elif ch.upper() in PHONETIC:
            phrases.append(say("verify_char_lower", language, letter=ch.upper(), word=PHONETIC[ch.upper()]))
        else:
            phrases.append(say("verify_char_symbol", language, name=symbols[ch]))
    return phrases
