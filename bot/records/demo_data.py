"""What the demo data set is made of: names, places, the training catalogue, prices, rejection
and hold reasons, and the demo farmers the README tells people to try (bot/records/seed.py builds
the records from these). People, deliveries, invoices and trainings are invented demo records."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal

from bot.config import PROJECT_ROOT

SEED_DIR = PROJECT_ROOT / "data" / "seed"
RANDOM_SEED = 20241129
FARMER_COUNT = 360

FIRST_NAMES = (
    "María",
    "Guadalupe",
    "Rosa",
    "Juana",
    "Margarita",
    "Verónica",
    "Leticia",
    "Adriana",
    "Josefina",
    "Teresa",
    "Alicia",
    "Elena",
    "Patricia",
    "Martha",
    "Silvia",
    "Juan",
    "José",
    "Miguel",
    "Pedro",
    "Francisco",
    "Jesús",
    "Antonio",
    "Alejandro",
    "Raúl",
    "Rafael",
    "Salvador",
    "Javier",
    "Ramón",
    "Arturo",
    "Fernando",
    "Ernesto",
    "Héctor",
    "Luis",
    "Jorge",
    "Isidro",
    "Efraín",
    "Rigoberto",
)
SURNAMES = (
    "Hernández",
    "García",
    "Martínez",
    "López",
    "González",
    "Pérez",
    "Rodríguez",
    "Sánchez",
    "Ramírez",
    "Cruz",
    "Flores",
    "Gómez",
    "Morales",
    "Vázquez",
    "Jiménez",
    "Reyes",
    "Díaz",
    "Torres",
    "Gutiérrez",
    "Ruiz",
    "Mendoza",
    "Aguilar",
    "Ortiz",
    "Castillo",
    "Chávez",
    "Ramos",
    "Valencia",
    "Cervantes",
    "Magaña",
    "Zamora",
    "Barajas",
    "Ochoa",
    "Villalobos",
    "Pulido",
    "Anguiano",
)
ORG_KINDS = ("SPR de RL", "Cooperativa", "Sociedad Cooperativa", "Unión de Productores")
TRAINING_CATALOG = {
    "agronomia": [
        (
            "Manejo integrado de trips y ácaros",
            "Cómo monitorear plagas y cuándo aplicar, con productos autorizados.",
        ),
        ("Nutrición y fertilización del huerto", "Análisis de suelo y un plan de fertilización por etapa."),
        ("Poda y manejo de copa", "Poda de formación y de producción para fruta de mejor calibre."),
    ],
    "regenerativa": [
        ("Cultivos de cobertura", "Qué sembrar entre hileras para proteger el suelo y guardar humedad."),
        ("Barreras contra la erosión", "Barreras vivas y muertas en laderas, con práctica en parcela."),
        ("Riego eficiente y cosecha de agua", "Goteo, calendarios de riego y captación de lluvia."),
        ("Rotación de cultivos", "Planear rotaciones para cortar plagas y mejorar el suelo."),
    ],
    "calidad": [
        ("Calidad e inocuidad en cosecha", "Buenas prácticas de cosecha, higiene y registros para SRRC."),
        ("Calibres y clasificación de fruta", "Cómo se clasifica por calidad y calibre en el empaque."),
    ],
    "negocios": [
        (
            "Facturación electrónica (CFDI) para productores",
            "Cómo emitir su factura y subir el XML a tiempo.",
        ),
        ("Costos de producción y precio", "Llevar cuentas simples del huerto y calcular su ganancia."),
    ],
    "liderazgo": [
        (
            "Liderazgo de mujeres productoras",
            "Taller para mujeres que dirigen o quieren dirigir su organización.",
        ),
        ("Mujeres en la toma de decisiones", "Herramientas para participar en asambleas y negociaciones."),
    ],
}
REJECTION_WEIGHTS = {"mechanical_damage": 4, "size_out_of_range": 3, "ripeness": 2, "pests": 2, "sunburn": 1}
# Why demo invoices are on hold or rejected: a code of vocabulary.HOLD_REASONS and the note staff wrote.
HOLD_NOTES = {
    "missing_cfdi_xml": "Falta el XML del CFDI de la factura.",
    "rfc_mismatch": "El RFC de la factura no coincide con su registro.",
}
REJECT_NOTES = {
    "amount_mismatch": "La factura se emitió con un monto distinto a lo aceptado.",
    "duplicate_invoice": "La factura está duplicada.",
}
PRICE_PER_KG = {
    "aguacate": Decimal("32.50"),
    "jitomate": Decimal("14.80"),
    "chile": Decimal("21.00"),
    "limon": Decimal("12.40"),
}


@dataclass(frozen=True)
class DemoFarmer:
    folio: str
    name: str
    municipality: str
    crop: str
    phone: str
    situation: str


DEMO_PHONES = (
    DemoFarmer(
        "PP-518204",
        "Rosa María Pérez Ruiz",
        "Uruapan",
        "aguacate",
        "+524431000001",
        "una productora con pagos pagados, programados y parte de una entrega rechazada",
    ),
    DemoFarmer(
        "PP-630117",
        "Juan Hernández López",
        "Tancítaro",
        "aguacate",
        "+524431000002",
        "teléfono compartido por dos productores de una familia",
    ),
    DemoFarmer(
        "PP-630942",
        "Guadalupe Hernández Soto",
        "Tancítaro",
        "aguacate",
        "+524431000002",
        "teléfono compartido por dos productores de una familia",
    ),
    DemoFarmer(
        "PP-741365",
        "Adriana Flores Ortiz",
        "Atlixco",
        "jitomate",
        "+522441000003",
        "factura retenida por falta del XML y una factura rechazada",
    ),
    DemoFarmer(
        "PP-852790",
        "Miguel Ángel Torres Ochoa",
        "Culiacán",
        "jitomate",
        "+526671000004",
        "productor nuevo sin facturas",
    ),
)
UNKNOWN_DEMO_PHONE = "+524439999999"


@dataclass(frozen=True)
class PlaceRow:
    state: str
    municipality: str
    timezone: str
    latitude: float
    longitude: float
    crop: str


def load_places() -> list[PlaceRow]:
    with open(SEED_DIR / "places.csv", encoding="utf-8") as handle:
        return [
            PlaceRow(
                r["state"],
                r["municipality"],
                r["timezone"],
                float(r["latitude"]),
                float(r["longitude"]),
                r["crops"],
            )
            for r in csv.DictReader(handle)
        ]
