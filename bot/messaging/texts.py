"""What the channel itself says to a farmer (short Mexican Spanish, usted). Everything else the
assistant says comes from the domain and the custom actions."""
from __future__ import annotations

OPT_OUT_CONFIRMED = (
    "Listo, ya no le enviaremos avisos del programa a este número. "
    "Si quiere volver a recibirlos, escriba ALTA."
)
OPT_IN_CONFIRMED = (
    "¡Bienvenido de nuevo! Volverá a recibir avisos del programa en este número. "
    "Para dejar de recibirlos, escriba BAJA."
)
MEDIA_AUDIO = (
    "Gracias por su nota de voz. Todavía no podemos escuchar audios. "
    "¿Nos lo puede escribir? Si prefiere hablar con una persona, escriba ASESOR."
)
MEDIA_IMAGE = (
    "Gracias por su foto, la guardamos para el equipo. Por ahora no puedo revisarla aquí. "
    "¿Me escribe su pregunta? O escriba ASESOR para hablar con una persona."
)
MEDIA_VIDEO = (
    "Gracias por su video, lo guardamos para el equipo. Por ahora no puedo verlo aquí. "
    "¿Me escribe su pregunta? O escriba ASESOR para hablar con una persona."
)
MEDIA_DOCUMENT = (
    "Gracias por su documento, lo guardamos para el equipo. Por ahora no puedo leerlo aquí. "
    "¿Me escribe su pregunta? O escriba ASESOR para hablar con una persona."
)
TURN_FAILED = (
    "Perdón, tuvimos una falla y no pude contestarle. Ya guardamos su mensaje; "
    "intente de nuevo en unos minutos o escriba ASESOR."
)


def media_reply(content_types: list[str]) -> str:
    kinds = [(c or "").split("/", 1)[0].lower() for c in content_types]
    if "audio" in kinds:
        return MEDIA_AUDIO
    if "video" in kinds:
        return MEDIA_VIDEO
    if "image" in kinds:
        return MEDIA_IMAGE
    return MEDIA_DOCUMENT


def all_channel_texts() -> dict[str, str]:
    """Every text above, for the GSM-7 / parts test."""
    return {
        name: value for name, value in globals().items() if name.isupper() and isinstance(value, str)
    }
