"""Realistic values for every field of the reply catalog, and every reply rendered with them as a
farmer gets it (with its numbered options): the input of the SMS length and alphabet checks."""

from __future__ import annotations

import string

from bot.assistant.turn import MAIN_MENU
from bot.replies import catalog

SAMPLES: dict[str, str] = {
    "controller": "Pequeño Productor",
    "notice_url": "pequenoproductor.mx/aviso-de-privacidad",
    "name": "Guadalupe",
    "count": "5",
    "program_phone": "800 000 0000",
    "left": "2",
    "until": "el mié 2 dic a las 14:35",
    "accepted": "1,116 kg",
    "delivered": "1,200 kg",
    "grades": "primera 176 kg, extra 75 kg, segunda 59 kg",
    "month": "septiembre",
    "year": "2026",
    "status": "pago programado",
    "subject": "agricultura regenerativa",
    "total": "$1,234,567.50",
    "explanation": (
        "Son golpes, magulladuras o rozaduras en la fruta. Pasan al cosechar, al cargar o en el "
        "camino, y muchas veces no se ven hasta que se corta la fruta."
    ),
    "what_to_do": (
        "Coseche y acomode la fruta con cuidado, no la deje caer ni la apriete en la caja, y "
        "cuídela del sol y del calor mientras espera."
    ),
    "lines": "Factura F-300201: $1,234,567.50, retenida. Motivo: El RFC de la factura no coincide con su registro.",
    "folio": "F-300102",
    "amount": "$1,234,567.50",
    "date": "mié 10 dic",
    "ref": "4821",
    "last4": "4821",
    # the longest middle of a payment notice: the longest hold reason and its advice (explanations.csv)
    "what": (
        "está retenida: los datos fiscales no coinciden. Revise con quien le hace sus facturas que "
        "los datos sean iguales a su constancia del SAT; si hay error, hay que cancelar y hacer otra factura"
    ),
    "reason": "El RFC de la factura no coincide con su registro.",
    "kg": "1,084 kg",
    "reasons": "daño mecánico (golpes) y calibre fuera de rango",
    "where": " cerca de Zapotlán el Grande",
    "answer": (
        "Un aguacate de 200 g queda entre calibre 50 (cerca de 218 g) y calibre 60 (cerca de "
        "167 g). El programa compra los dos calibres."
    ),
    # a broadcast's text: the longest an officer can write fits 2 SMS parts (the composer checks)
    "text": (
        "La bodega de Uruapan recibe aguacate el sábado 12 de 7:00 a 14:00. Traiga su folio y "
        "sus cajas limpias."
    ),
    "title": "Facturación electrónica (CFDI) para productores",
    "when": "sáb 13 dic, 10:00 (hora del centro)",
    "venue": "Parcela demostrativa Chilpancingo de los Bravo",
    "place": "Salón de la cooperativa (Chilpancingo de los Bravo, Gro.)",
    "summary": (
        "Calidad Primera: buena calidad. Se aceptan defectos leves de forma y de color, y "
        "defectos leves de cáscara (corcho, lenticelas cicatrizadas, quemadura de sol que no avance)."
    ),
    "source": "Clase I de la norma tipo UNECE/OCDE, resumida por leafconagro.com",
    "grade": "Segunda",
    "product": "aguacate",
    "details": ("Los defectos nunca deben afectar la pulpa. El pedúnculo puede venir ligeramente dañado."),
    "bought": "36, 40, 48, 50 y 60",
    "grams": "250",
    "calibres": "40 o 48",
    "low": "227",
    "high": "283",
    "big": "50",
    "big_g": "218",
    "small": "60",
    "small_g": "167",
    "calibre": "48",
    "known": "36, 40, 48, 50, 60, 70 y 84",
}


def all_reply_texts() -> dict[str, str]:
    """Every template rendered with SAMPLES, and the longest replies as the farmer gets them
    (with their numbered options), for the SMS length and alphabet checks."""
    formatter = string.Formatter()
    texts = {}
    for name, template in catalog.TEMPLATES.items():
        fields = {field for _, field, _, _ in formatter.parse(template) if field}
        texts[name] = template.format(**{field: SAMPLES[field] for field in fields})
    menu = catalog.numbered([option.label for option in MAIN_MENU])
    for name in ("menu_intro", "out_of_scope", "not_understood", "number_unknown"):
        texts[f"{name}+menu"] = f"{texts[name]}\n{menu}"
    texts["consent_thanks+menu"] = f"{texts['consent_thanks']}\n{texts['menu_intro']}\n{menu}"
    consent = [catalog.OPTION_LABELS["accept"], catalog.OPTION_LABELS["no"]]
    texts["privacy_notice+options"] = f"{texts['privacy_notice']}\n{catalog.numbered(consent)}"
    line = texts["training_line_sms"]  # by SMS a session is its title and time
    texts["trainings_intro+2 trainings"] = f"{texts['trainings_intro']}\n{catalog.numbered([line, line])}"
    for name in ("trainings_intro", "trainings_farther", "trainings_other_subjects"):  # a page, and MAS
        texts[f"{name}+2 trainings+more"] = (
            f"{texts[name]}\n{catalog.numbered([line, line])}\n{texts['trainings_more']}"
        )
    texts["hello_known+menu"] = f"{texts['hello_known']}\n{texts['menu_intro']}\n{menu}"
    texts["quality_answer+more"] = (
        f"{texts['quality_answer']}\n{texts['quality_more']}\n"
        f"{catalog.numbered(['Sí, más detalle', 'Defectos', 'Extra', 'Madurez'])}"
    )
    return texts
