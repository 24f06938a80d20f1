"""Every sentence the assistant writes to a farmer, in one place (usted, short, Mexican Spanish).

Templates use str.format fields; tests/replies/samples.py renders every one with realistic values
so a test can check each reply's SMS length and alphabet. Every SMS part is billed to the program
and read on a basic phone: a reply fits one part (160 characters) where it can, two at most.

A template that says a number of something ("Le quedan {left} intentos") has a variant for one,
named with ":1" ("Le queda {left} intento"): render() picks it when a count field is 1.
"""

from __future__ import annotations

TEMPLATES: dict[str, str] = {
    # first contact and privacy (LFPDPPP: simplified notice, express consent)
    # Who keeps the data, what, why, and where the full notice is, in one SMS part with its options.
    "privacy_notice": (
        "¡Hola! {controller} guarda su teléfono y pagos para responderle. "
        "Aviso de privacidad: {notice_url} ¿Acepta?"
    ),
    "consent_thanks": "Gracias.",
    # revoking consent (LFPDPPP): distinct from BAJA, one line each
    "revoke_confirm": (
        "Si revoca su permiso, ya no le daremos por este medio datos de sus pagos ni avisos. "
        "Sus facturas y pagos siguen en los registros del programa, como piden la ley y el contrato.\n"
        "REVOCO: ya no usamos sus datos. BAJA: ya no le mandamos mensajes.\n¿Confirma?"
    ),
    "revoked": (
        "Listo, quedó registrada su revocación. Ya no usaremos sus datos por este medio. "
        "Si cambia de opinión, escriba ACEPTO."
    ),
    "revoke_nothing": (
        "No tenemos su permiso registrado, así que no usamos sus datos por este medio. "
        "Si quiere darlo, escriba ACEPTO."
    ),
    # opting out in words: BAJA is the one word that stops messages (the channels record it)
    "stop_messages_how": (
        "Para ya no recibir mensajes en este número, responda BAJA. "
        "Si después quiere volver a recibirlos, escriba ALTA."
    ),
    "consent_declined": (
        "Entendido, no usaremos sus datos. Puede preguntar por calidad y calibres. "
        "Si cambia de opinión, escriba ACEPTO."
    ),
    "hello_known": "¡Hola, {name}!",
    "hello": "¡Hola!",
    "menu_intro": "¿En qué le ayudo? Responda con el número:",
    "goodbye": "¡Que le vaya bien! Aquí estamos cuando nos necesite.",
    "thanks_reply": "¡Con gusto! Si necesita algo más, escriba MENU.",
    "bot_challenge": (
        "Soy un asistente automático del programa, no una persona. Si quiere hablar con un "
        "asesor, escriba ASESOR."
    ),
    "ok": "De acuerdo. Si necesita algo más, escriba MENU.",
    "out_of_scope": "Eso no lo sé responder, disculpe. Responda con el número de su tema:",
    "not_understood": "Disculpe, no le entendí. Responda el número de su tema:",
    "not_understood_again": (
        "Disculpe, sigo sin entenderle. Pasé su mensaje a un asesor del programa y le escribirá "
        "por este medio."
    ),
    "number_unknown": "No le entendí ese número. Responda con una opción:",
    "number_out_of_range": "Esa opción no está en la lista. Responda del 1 al {count}:",
    "number_only_option": "Esa opción no está en la lista. Responda 1 para elegir:",
    # who is writing
    "unknown_number": (
        "Su número no está registrado en el programa, así que no puedo darle datos de pagos. "
        "Para registrarse, hable con su técnico o llame al {program_phone}."
    ),
    "choose_farmer": "Este teléfono es de varias personas. ¿Quién pregunta?",
    "choose_farmer_unknown": "No encuentro ese nombre en este teléfono. ¿Quién pregunta?",
    "choose_farmer_why": "Cada persona de este teléfono ve solo sus propios pagos. ¿Quién pregunta?",
    "ask_code": (
        "Para cuidar sus datos, escriba los últimos 4 números de su folio del programa "
        "(vienen en su credencial)."
    ),
    "ask_pin": "Para cuidar sus datos, escriba su NIP de 4 números.",
    "code_why": (
        "Es para que solo usted vea sus pagos, aunque otros usen este teléfono. "
        "Escriba los 4 números finales de su folio o escriba ASESOR."
    ),
    "pin_why": (
        "Es para que solo usted vea sus pagos, aunque otros usen este teléfono. "
        "Escriba su NIP de 4 números o escriba ASESOR."
    ),
    "code_missing": (
        "Sin su folio no puedo mostrarle sus pagos. Cuando lo tenga, escriba los 4 números "
        "finales. Si no lo encuentra, escriba ASESOR y una persona le ayuda."
    ),
    "pin_missing": (
        "Sin su NIP no puedo mostrarle sus pagos. Si no lo recuerda, escriba ASESOR y una persona le ayuda."
    ),
    "code_wrong": "Ese número no coincide. Intente otra vez. Le quedan {left} intentos.",
    "code_wrong:1": "Ese número no coincide. Intente otra vez. Le queda {left} intento.",
    "code_locked": (
        "Por seguridad, las consultas de pago de este teléfono quedan bloqueadas hasta {until}. "
        "Si necesita ayuda, escriba ASESOR."
    ),
    "code_locked_for_staff": (
        "Por seguridad, las consultas de pago de este teléfono quedan bloqueadas hasta que un "
        "asesor las revise. Ya le avisamos: le escribirá por este medio."
    ),
    # the farmer's own PIN, instead of the folio digits
    "pin_ask": "Escriba 4 números para su NIP. No use 1234 ni números repetidos.",
    "pin_weak": "Ese NIP es fácil de adivinar. Escriba otros 4 números.",
    "pin_invalid": "El NIP debe ser de 4 números, sin letras ni espacios. Intente otra vez.",
    "pin_saved": "Listo, su NIP quedó guardado. Desde ahora úselo en lugar de los números de su folio.",
    "pin_offer": "Para más seguridad, puede elegir su propio NIP: escriba NIP.",
    # payments
    "no_invoices": "No tiene facturas registradas en el programa todavía.",
    "invoice_not_found": "No encontré la factura {folio} entre sus facturas. Revise el folio.",
    "invoice_not_described": "No encontré esa factura entre las suyas. Escriba su folio (ej. F-123456).",
    "payments_intro": "Sus pagos más recientes:",
    # one line per invoice: two invoices and a rejection fit one SMS part
    "invoice_paid": "{folio}: {amount}, pagada el {date}.",
    "bank_reference": "Referencia del depósito: termina en {ref}.",
    "invoice_scheduled": "{folio}: {amount}, se pagará el {date}.",
    "invoice_received": "{folio}: {amount}, recibida. Pago estimado: {date}.",
    "invoice_in_review": "{folio}: {amount}, en revisión. Pago estimado: {date}.",
    "invoice_on_hold": "{folio}: {amount}, retenida: {reason}.",
    "invoice_rejected": "{folio}: {amount}, rechazada: {reason}.",
    "invoice_rejection": "Se rechazaron {kg} por {reasons}.",
    "invoice_rejection:1": "Se rechazó {kg} por {reasons}.",
    "account_number_not_here": (
        "Por seguridad, no nos mande su CLABE ni números de cuenta o tarjeta por este medio. "
        "Para cambiar su cuenta, escriba ASESOR y le dirán cómo."
    ),
    "payments_more": "Para otra factura, escriba su folio (ej. F-123456).",
    # notices: told without being asked (issue 14). Never an amount: a basic phone is shared.
    # The WhatsApp template for payment notices is "notice_payment" with {{1}} the folio and
    # {{2}} the rest of the sentence (docs/twilio.md, *Notices*).
    "notice_payment": "Aviso del programa: su factura {folio} {what}. Escriba PAGOS para ver el detalle.",
    "notice_scheduled": "tiene pago programado para el {date}",
    "notice_paid": "fue pagada el {date}, en el depósito que termina en {last4}",
    "notice_paid_no_reference": "fue pagada el {date}",
    "notice_on_hold": "está retenida: {reason}. {what_to_do}",
    "notice_rejected": "fue rechazada: {reason}. {what_to_do}",
    # Trainings. Their WhatsApp templates: {{1}} the title, {{2}} when, {{3}} the venue.
    "notice_reminder": (
        "Recordatorio del programa: su capacitación {title} es el {when}, en {venue}. "
        "Responda 1 para confirmar que va."
    ),
    "notice_training_moved": (
        "Aviso del programa: su capacitación {title} cambió. Ahora es el {when}, en {venue}. "
        "Responda 1 para confirmar que va."
    ),
    "notice_training_cancelled": (
        "Aviso del programa: se canceló la capacitación {title} del {when}, en {venue}. Disculpe. "
        "Escriba TALLERES para ver otras fechas."
    ),
    "notice_training_new": (
        "Aviso del programa: hay una capacitación nueva cerca de usted: {title}, el {when}, en {venue}. "
        "Responda 1 para inscribirse."
    ),
    # A broadcast: {text} is what the officer wrote and an admin approved (its WhatsApp template
    # is this sentence with {{1}} for the text; docs/twilio.md).
    "notice_broadcast": "Mensaje del programa: {text} Para ya no recibir noticias, escriba NO NOTICIAS.",
    # news of new trainings: a voluntary purpose, asked once (after an enrolment)
    "news_ask": "¿Quiere recibir noticias del programa, como capacitaciones nuevas cerca de usted?",
    "news_yes": (
        "Listo, le enviaremos noticias del programa y capacitaciones nuevas cerca de usted. "
        "Para dejarlas, escriba NO NOTICIAS."
    ),
    "news_no": (
        "Está bien, no le enviaremos noticias del programa. Los avisos de sus pagos y sus "
        "capacitaciones siguen. Si cambia de opinión, escriba QUIERO NOTICIAS."
    ),
    "attendance_confirmed": "Gracias, le esperamos en {title}, {when}, en {venue}.",
    "attendance_not_found": "Ya no tiene inscripción activa a esa capacitación. Escriba TALLERES para ver otras.",
    # payment history
    "history_last": "Su último pago: factura {folio}, {amount}, pagada el {date}.",
    "history_none": "Todavía no tiene pagos registrados en el programa.",
    "history_none_before": "No tiene pagos registrados antes de ese.",
    "history_year": "En {year} le hemos pagado {count} facturas. Total: {total}.",
    "history_year:1": "En {year} le hemos pagado {count} factura. Total: {total}.",
    "history_year_none": "No tiene pagos registrados en {year}.",
    "invoice_brief": "{folio} {amount}, {status}, {date}",
    "history_month": "En {month} le pagamos {count} facturas: {lines}. Total: {total}.",
    "history_month:1": "En {month} le pagamos {count} factura: {lines}. Total: {total}.",
    "history_month_none": "No tiene pagos registrados en {month}.",
    "history_pending": "Por cobrar: {lines}",
    "history_pending_none": "No tiene facturas pendientes: todo está pagado.",
    "history_item": "{folio} ({amount}, {date})",
    "history_more": "Tiene {count} facturas más; escriba el folio para ver cada una.",
    "history_more:1": "Tiene {count} factura más; escriba su folio para verla.",
    # the farmer's own deliveries
    "delivery": "Entrega del {date} ({product}): {delivered} entregados, {accepted} aceptados.",
    "delivery_rejected": "Se rechazaron {kg} por {reasons}.",
    "delivery_rejected:1": "Se rechazó {kg} por {reasons}.",
    "delivery_nothing_rejected": "No se rechazó nada.",
    "delivery_grades": "Aceptado por calidad: {grades}.",
    "delivery_calibres": "Aceptado por calibre: {calibres}.",
    "delivery_calibre": "{kg} de calibre {calibre}",
    "deliveries_none_in": "No tiene entregas registradas en {month}.",
    "deliveries_one_more": "También hay una del {date}. Para verla, escriba: la anterior.",
    "deliveries_none": "No tiene entregas registradas{product} todavía.",
    # explanations and the program's how-tos
    "explanation": "{title}: {explanation}",
    "explanation_todo": "Qué puede hacer: {what_to_do}",
    "explanation_which": (
        "¿Qué palabra quiere que le explique? Por ejemplo: daño mecánico, madurez, retenida o XML."
    ),
    "howto_to_staff": (
        "Esa pregunta la responde el personal del programa. Ya le pasé su mensaje a un asesor "
        "(referencia {ref}); le escribirá por este medio."
    ),
    # trainings
    "ask_place": "¿En qué municipio o estado está? Escriba por ejemplo: talleres en Uruapan.",
    "trainings_intro": "Capacitaciones{where}. Para inscribirse, responda el número:",
    "trainings_more": "Responda MAS para ver más.",
    "trainings_no_more": "No hay más en la lista. Escriba TALLERES para buscar otras.",
    "training_line": "{title}, {when}, {place}",
    "training_line_sms": "{title}, {when}",
    "trainings_none": "No hay capacitaciones programadas{where} por ahora. Le avisaremos cuando haya.",
    "trainings_farther": "No hay de {subject}{where}. Las más próximas, en otros lugares:",
    "trainings_other_subjects": "No hay capacitaciones de {subject} por ahora. Otras{where}:",
    "my_enrolments": "Sus capacitaciones ({count}):\n{lines}\nSi no puede ir, escriba CANCELAR TALLER.",
    "trainings_pick": "¿A cuál capacitación? Responda con el número:",
    "enrol_confirm": "¿Confirma su inscripción a {title}, {when}, en {venue}?",
    "enrolled": "Listo, quedó inscrito(a) en {title}, {when}. Si no puede ir, escriba CANCELAR TALLER.",
    "enrol_already": "Ya estaba inscrito(a) en {title}. Le esperamos.",
    "enrol_full": "Lo siento, ya no hay lugares en {title}. Escriba TALLERES para ver otras fechas.",
    "enrol_unavailable": "Esa capacitación ya no está disponible. Escriba TALLERES para ver otras.",
    "no_enrolments": "No tiene inscripciones a capacitaciones próximas.",
    "cancel_choose": "¿Cuál inscripción quiere cancelar?",
    "cancel_confirm": "¿Cancela su inscripción a {title}, {when}?",
    "cancelled": "Listo, cancelamos su inscripción a {title}. Su lugar queda libre para otra persona.",
    "cancel_not_found": "No encontré esa inscripción activa.",
    # quality standards
    "quality_which_product": "¿De qué producto quiere saber la calidad que pide el comprador?",
    "quality_answer": "Según la tabla de referencia del programa: {summary}",
    "quality_missing": (
        "No tengo en el registro del programa los requisitos de {grade} para {product}. "
        "Pregunte a su técnico o escriba ASESOR."
    ),
    "quality_no_product": (
        "Todavía no tengo requisitos de calidad para {product} en el registro del programa. "
        "Pregunte a su técnico o escriba ASESOR."
    ),
    "quality_more": "¿Quiere más detalle?",
    "quality_detail": "{details} Fuente: {source}.",
    # avocado sizes (count system: fruit per 25-lb / 11.3 kg carton)
    "size_intro": (
        "El calibre es el número de aguacates Hass que llenan una caja de 11.3 kg (25 libras). "
        "Calibres que compra el programa: {bought}. Escriba el peso de su fruta (ej. 200 gramos) "
        "o el calibre (ej. calibre 48)."
    ),
    "size_for_weight_range": "Un aguacate de {grams} g es calibre {calibres} ({low} a {high} g por fruto). {bought}",
    "size_for_weight_between": (
        "Un aguacate de {grams} g queda entre calibre {big} (cerca de {big_g} g) y calibre {small} "
        "(cerca de {small_g} g). {bought}"
    ),
    "size_for_weight_above": "Un aguacate de {grams} g es más grande que calibre {calibre} ({low} a {high} g). {bought}",
    "size_for_weight_below": (
        "Un aguacate de {grams} g es más chico que calibre {calibre} (cerca de {low} g). "
        "Para calibres más chicos la tabla no tiene peso de referencia."
    ),
    "size_bought": "El programa lo compra.",
    "size_not_bought": "El programa no lo compra.",
    "size_bought_both": "El programa compra los dos calibres.",
    "size_smaller": "Más chicos que el calibre {calibre} son los calibres {calibres}. {bought}",
    "size_bigger": "Más grandes que el calibre {calibre} son los calibres {calibres}. {bought}",
    "size_none_past": "La tabla no tiene calibres más allá del {calibre}.",
    "size_none_bought": "El programa no los compra.",
    "size_all_bought": "El programa los compra.",
    "size_bought_only": "El programa solo compra el {calibres}.",
    "size_calibre_range": "Calibre {calibre}: {calibre} frutos por caja de 11.3 kg; cada fruto pesa de {low} a {high} g. {bought}",
    "size_calibre_point": "Calibre {calibre}: {calibre} frutos por caja de 11.3 kg; cada fruto pesa cerca de {low} g. {bought}",
    "size_calibre_no_weight": "Calibre {calibre}: {calibre} frutos por caja de 11.3 kg. La tabla no tiene su peso por fruto. {bought}",
    "size_calibre_unknown": "El calibre {calibre} no está en la tabla del programa. Calibres en la tabla: {known}.",
    "size_weight_nonsense": "Ese peso no parece de un aguacate. Escriba el peso de un fruto, por ejemplo 200 gramos.",
    "size_reference": "Según la tabla del programa (no es la norma oficial): {answer}",
    "size_source": "Fuente: {source}.",
    # people
    "human_requested": (
        "Listo. Pasé su solicitud a un asesor del programa. Le escribirá por este mismo medio. "
        "Su número de solicitud es {ref}."
    ),
    "human_already": "Ya tiene una solicitud abierta ({ref}). Un asesor le escribirá pronto por este medio.",
    "error": "Disculpe, tuve un problema para consultar. Intente en unos minutos o escriba ASESOR.",
    # what the WhatsApp and SMS channels answer by themselves (bot/messaging/texts.py)
    "channel_opt_out_confirmed": (
        "Listo, ya no le enviaremos avisos del programa a este número. Si quiere volver a "
        "recibirlos, escriba ALTA."
    ),
    "channel_opt_in_confirmed": (
        "¡Bienvenido de nuevo! Volverá a recibir avisos del programa en este número. Para dejar "
        "de recibirlos, escriba BAJA."
    ),
    "media_audio": (
        "Gracias por su nota de voz. Todavía no podemos escuchar audios. ¿Nos lo puede escribir? "
        "Si prefiere hablar con una persona, escriba ASESOR."
    ),
    "media_image": (
        "Gracias por su foto, la guardamos para el equipo. Por ahora no puedo revisarla aquí. ¿Me"
        " escribe su pregunta? O escriba ASESOR para hablar con una persona."
    ),
    "media_video": (
        "Gracias por su video, lo guardamos para el equipo. Por ahora no puedo verlo aquí. ¿Me "
        "escribe su pregunta? O escriba ASESOR para hablar con una persona."
    ),
    "media_document": (
        "Gracias por su documento, lo guardamos para el equipo. Por ahora no puedo leerlo aquí. "
        "¿Me escribe su pregunta? O escriba ASESOR para hablar con una persona."
    ),
    "media_missing": (
        "No me llegó ningún archivo. Por ahora no puedo ver fotos ni escuchar audios aquí. ¿Me "
        "escribe su pregunta? O escriba ASESOR para hablar con una persona."
    ),
    # production: the message is kept and tried again by itself, so the farmer need not resend
    "channel_turn_delayed": (
        "Perdón, tuvimos una falla. Ya guardamos su mensaje y le contestamos en cuanto se resuelva."
    ),
    "channel_turn_failed": (
        "Perdón, tuvimos una falla y no pude contestarle. Ya guardamos su mensaje; intente de "
        "nuevo en unos minutos o escriba ASESOR."
    ),
    # once per minute to a number over the rate limit (bot/messaging/rate_limit.py)
    "channel_rate_limited": (
        "Recibimos muchos mensajes seguidos de este número. Sus mensajes quedan guardados; "
        "escriba de nuevo en un minuto, por favor."
    ),
}

OPTION_LABELS: dict[str, str] = {
    "payments": "Mis pagos",
    "trainings": "Capacitaciones",
    "quality": "Calidad que piden",
    "size": "Calibre del aguacate",
    "human": "Hablar con una persona",
    "yes": "Sí",
    "no": "No",
    "accept": "Acepto",
    "revoke": "Sí, revoco",
    "more": "Sí, más detalle",
    "what_to_do": "Qué puedo hacer",
    "explain": "Qué significa",
    "aguacate": "Aguacate",
    "jitomate": "Jitomate",
}


# Fields that carry a number of something: "1" picks the template's variant for one.
COUNT_FIELDS = ("count", "left", "kg")


def render(template: str, /, **values: object) -> str:
    """One template filled in: its variant for one ("name:1") when a count field is 1. The
    template's name is positional-only, so a field of any name (``name`` included) can be
    passed."""
    one = f"{template}:1"
    if one in TEMPLATES and any(_is_one(values.get(field)) for field in COUNT_FIELDS):
        template = one
    return TEMPLATES[template].format(**values)


def _is_one(value: object) -> bool:
    """1, "1" or "1 kg"."""
    return value is not None and str(value).split(" ", 1)[0] == "1"


def numbered(labels: list[str]) -> str:
    return "\n".join(f"{n}. {label}" for n, label in enumerate(labels, 1))
