"""The time zone a farmer lives in, from their state (and the one municipality that differs
from its state), for quiet hours. Read off the IANA time zone database's zone1970.tab, Mexico's
rows (tzdata 2024+; "most areas" of a state take the state's zone): Quintana Roo is
America/Cancun; Campeche and Yucatán America/Merida; Durango, Coahuila, Nuevo León and Tamaulipas
America/Monterrey; Chihuahua America/Chihuahua; Baja California Sur, Nayarit and Sinaloa
America/Mazatlan, except Bahía de Banderas (America/Bahia_Banderas); Sonora America/Hermosillo;
Baja California America/Tijuana; the rest of the country America/Mexico_City."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.text import plain

CENTRAL = "America/Mexico_City"
STATE_ZONES: dict[str, str] = {
    "quintana roo": "America/Cancun",
    "campeche": "America/Merida",
    "yucatan": "America/Merida",
    "durango": "America/Monterrey",
    "coahuila": "America/Monterrey",
    "nuevo leon": "America/Monterrey",
    "tamaulipas": "America/Monterrey",
    "chihuahua": "America/Chihuahua",
    "baja california sur": "America/Mazatlan",
    "nayarit": "America/Mazatlan",
    "sinaloa": "America/Mazatlan",
    "sonora": "America/Hermosillo",
    "baja california": "America/Tijuana",
}
MUNICIPALITY_ZONES: dict[tuple[str, str], str] = {("nayarit", "bahia de banderas"): "America/Bahia_Banderas"}


def zone_of(state: str | None, municipality: str | None = None) -> ZoneInfo:
    key = plain(state or "").strip()
    name = MUNICIPALITY_ZONES.get((key, plain(municipality or "").strip())) or STATE_ZONES.get(key, CENTRAL)
    return ZoneInfo(name)
