"""Lo que oye y lee quien llama en español: the Spanish catalogue of everything a caller hears
or reads (menu, voicemail, ticket status, verification, the one-time secret).

Technicians' pages stay in the company's language; they only say "(Spanish speaker)".
"""

PROMPTS = {
    # -- the phone menu, voicemail and ticket status (voice_prompts.caller) -------------------
    "greeting": "Gracias por llamar a {company}.",
    "emergency_first": "Si es una emergencia, marque {extension} ahora, a cualquier hora.",
    "language_offer": "Para español, oprima {digit}.",
    "menu": (
        "Para soporte técnico, oprima {support}. "
        "Para acceso a su cuenta o ayuda con contraseñas, oprima {verification}. "
        "Para saber el estado de un ticket, oprima {status}."
    ),
    "menu_repeat": "Para escuchar las opciones de nuevo, oprima asterisco.",
    "desk_offer": "Para hablar con el servicio de soporte, oprima {digit}.",
    "no_input": "Disculpe, no escuchamos ninguna opción.",
    "invalid_choice": "Disculpe, {keys} no es una de las opciones.",
    "menu_give_up": "Mejor le tomamos un mensaje.",
    "emergency_question": (
        "¿Es una emergencia? Oprima 1 para sí. "
        "Si no, permanezca en la línea para dejar un mensaje para el próximo día hábil."
    ),
    "connecting_desk": "Le comunicamos con el servicio de soporte. Por favor, espere.",
    "desk_unavailable": "Todos nuestros técnicos están ayudando a otros clientes.",
    "closed": "Nuestra oficina está cerrada. Abrimos de nuevo {reopening}.",
    "closed_no_hours": "Nuestra oficina está cerrada.",
    "emergency_reminder": (
        "Si es una emergencia, marque {extension} ahora. "
        "Si no, permanezca en la línea para dejar un mensaje para el próximo día hábil."
    ),
    "emergency_intro": "Ha llamado a la línea de emergencias.",
    "oncall_connecting": "Le comunicamos con el técnico de guardia. Por favor, espere.",
    "oncall_unavailable": "El técnico de guardia no pudo contestar en este momento; le avisamos con su mensaje.",
    "voicemail_support": (
        "Después del tono, deje su nombre, su empresa, un número para devolverle la llamada y una breve "
        "descripción del problema. Oprima numeral al terminar."
    ),
    "voicemail_emergency": (
        "Después del tono, díganos su nombre, su empresa, un número para localizarle y qué ha dejado de funcionar. "
        "Luego oprima numeral."
    ),
    "no_message_heard": "No escuchamos ningún mensaje.",
    "speak_again": "Por favor, hable después del tono y oprima numeral.",
    "ticket_opened": "Su número de ticket es {spoken}. Repetimos: ticket {spoken}.",
    "call_logged": "Registramos su llamada con el ticket {spoken}.",
    "message_saved_no_number": "Su mensaje quedó guardado.",
    "emergency_paged": (
        "Estamos avisando ahora al técnico de guardia, que le devolverá la llamada en menos de {minutes} minutos. "
        "Si no tiene noticias nuestras para entonces, vuelva a llamar y marque {extension}."
    ),
    "callback_next_day": "Un técnico le devolverá la llamada {reopening}.",
    "callback_soon": "Un técnico le devolverá la llamada lo antes posible.",
    "goodbye": "Gracias por llamar. Adiós.",
    "status_ask": "Marque su número de ticket en el teclado, solo los dígitos, seguido de la tecla numeral.",
    "status_found": "El ticket {spoken} está {status}, con prioridad {priority}.",
    "status_not_found": "No encontramos ese ticket.",
    "status_again": "Para consultar otro ticket, marque su número seguido de la tecla numeral.",
    "status_stay": "O permanezca en la línea para volver al menú.",
    "technical_difficulty": "Tenemos problemas técnicos, pero su mensaje nos llegará igualmente.",
    "status_words_new": "abierto, esperando a un técnico",
    "status_words_acknowledged": "en manos de un técnico",
    "status_words_resolved": "resuelto",
    "priority_words_P1": "urgente",
    "priority_words_P2": "alta",
    "priority_words_P3": "normal",
    "priority_words_P4": "baja",
    # -- verification (voice_prompts.verification) ------------------------------------------------
    "verify_ask_number": (
        "Para verificar su identidad, marque el número de teléfono que tenemos registrado para usted, "
        "con el código de área, seguido de la tecla numeral."
    ),
    "verify_no_input": "Disculpe, no escuchamos nada.",
    "verify_bad_number": "Disculpe, ese número de teléfono parece incompleto.",
    "verify_number_give_up": "No pudimos tomar un número de teléfono. Volvemos al menú principal.",
    "verify_ask_pin": (
        "Marque el PIN que configuró en nuestro portal de clientes, seguido de la tecla numeral. "
        "Si no tiene PIN, o prefiere que le llamemos al número que tenemos registrado, oprima asterisco."
    ),
    "verify_pin_not_accepted": "Ese PIN no fue aceptado.",
    "verify_callback_promise": (
        "Vamos a colgar y a llamarle al número que tenemos registrado, si coincide con nuestros datos. "
        "Si no recibe la llamada en cinco minutos, vuelva a llamarnos más tarde."
    ),
    "verify_verified": (
        "Gracias. Su identidad queda verificada durante quince minutos, y su técnico puede verlo en el "
        "ticket {spoken}."
    ),
    "verify_next_open": (
        "Para hablar ahora con el servicio de soporte, oprima {digit} o permanezca en la línea. "
        "Para el menú principal, oprima asterisco."
    ),
    "verify_next_closed": (
        "Para dejar un mensaje a un técnico, permanezca en la línea. "
        "Si es una emergencia, marque {extension} ahora."
    ),
    "verify_message_waiting": (
        "Tiene un mensaje de un solo uso esperándole. Por su seguridad, solo se lee en una llamada nuestra "
        "al número que tenemos registrado."
    ),
    "verify_unavailable": (
        "Disculpe, no podemos completar la verificación en este momento. Inténtelo más tarde. "
        "Este es de nuevo el menú principal."
    ),
    "verify_error": "Disculpe, no pudimos completar la verificación. Vuelva a llamarnos. Adiós.",
    "verify_callback_greeting": (
        "Hola, le llama {company}, porque nos pidió verificar su identidad. "
        "Si pidió esta llamada, oprima 1. Si no, cuelgue; no cambiará nada."
    ),
    "verify_callback_machine": "Le llama {company}, devolviendo su llamada. Vuelva a llamarnos. Adiós.",
    "verify_callback_ask_pin": (
        "Marque el PIN que configuró en nuestro portal de clientes, seguido de la tecla numeral."
    ),
    "verify_callback_declined": "No se ha cambiado nada. Adiós.",
    "verify_callback_failed": "No pudimos verificar su identidad en esta llamada. Adiós.",
    "verify_callback_invalid": "No se pudo verificar esta llamada. Adiós.",
    "verify_callback_verified": (
        "Gracias, su identidad queda verificada durante quince minutos. Su técnico continuará con su solicitud. "
        "Adiós."
    ),
    "verify_secret_ready": (
        "Tiene un mensaje de un solo uso esperándole. Tenga a mano papel y lápiz. Oprima 1 cuando esté listo."
    ),
    "verify_secret_not_read": (
        "El mensaje no se ha leído. Puede pedir otra llamada para escucharlo. Adiós."
    ),
    "verify_secret_intro": (
        "Este es su mensaje de un solo uso. Tiene {count} caracteres, y se lee despacio, de uno en uno."
    ),
    "verify_secret_end": "Ese fue el final del mensaje.",
    "verify_secret_choice": "Para escucharlo de nuevo, oprima 1. Si ya lo tiene, oprima 9, y se borrará.",
    "verify_secret_last": "Esa fue la última vez que se podía leer. El mensaje ya se ha borrado.",
    "verify_secret_deleted": "El mensaje se ha borrado.",
    "verify_offer_desk": ("Para hablar ahora con nuestro equipo de soporte, oprima 1. Si no, puede colgar, y su "
                          "técnico seguirá con su solicitud."),
    "verify_offer_oncall": ("Nuestra oficina está cerrada. Para hablar ahora con el técnico de guardia, oprima 1. "
                            "Si no, puede colgar, y su técnico seguirá con su solicitud."),
    "verify_connecting_desk": "Le comunicamos con el equipo de soporte. Espere, por favor.",
    "verify_connecting_oncall": "Le comunicamos con el técnico de guardia. Espere, por favor.",
    "verify_hand_over_unanswered": ("Disculpe, nadie pudo atender su llamada en este momento. Su técnico seguirá "
                                    "con su solicitud. Adiós."),
    "verify_callback_goodbye": "Adiós.",
    "status_assigned": "El ticket {spoken} ya está asignado a un técnico.",
    "status_not_assigned": "El ticket {spoken} todavía no está asignado a un técnico.",
    "verify_char_capital": "{letter} mayúscula, como en {word}",
    "verify_char_lower": "{letter} minúscula, como en {word}",
    "verify_char_digit": "número {digit}",
    "verify_char_symbol": "símbolo {name}",
}

SYMBOLS = {
    " ": "espacio", "!": "signo de exclamación", '"': "comillas", "#": "numeral", "$": "signo de dólar",
    "%": "signo de porcentaje", "&": "ampersand", "'": "apóstrofo", "(": "abrir paréntesis",
    ")": "cerrar paréntesis", "*": "asterisco", "+": "signo más", ",": "coma", "-": "guion",
    ".": "punto", "/": "barra", ":": "dos puntos", ";": "punto y coma", "<": "signo menor que",
    "=": "signo igual", ">": "signo mayor que", "?": "signo de interrogación", "@": "arroba",
    "[": "abrir corchete", "\\": "barra invertida", "]": "cerrar corchete", "^": "acento circunflejo",
    "_": "guion bajo", "`": "acento grave", "{": "abrir llave", "|": "barra vertical",
    "}": "cerrar llave", "~": "tilde",
}
