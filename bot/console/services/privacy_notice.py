"""The full privacy notice (aviso de privacidad integral) the short one in the chat points to:
its facts come from the settings, so a deployment fills what the project cannot know (the
controller's legal name and address, the ARCO e-mail and phone) without code; until then the page
shows a visible "[POR LLENAR: …]". The retention periods are the ones the purge applies."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from bot.records.consents import NOTICE_VERSION
from bot.records.retention import PERIOD_SETTINGS, periods
from bot.records.vocabulary import RETENTION_KINDS


@dataclass(frozen=True)
class Fact:
    """A fact the notice states: its value, or what staff must fill in."""

    value: str
    missing: str  # shown as "[POR LLENAR: …]" (or "[POR CONFIRMAR: …]") while value is empty
    placeholder: str = "POR LLENAR"

    @property
    def text(self) -> str:
        return self.value or f"[{self.placeholder}: {self.missing}]"

    @property
    def filled(self) -> bool:
        return bool(self.value)


@dataclass(frozen=True)
class Period:
    kind: str
    label: str  # what is kept, in Spanish
    days: int
    words: str  # "365 días (un año)"
    setting: str  # its environment variable


@dataclass(frozen=True)
class NoticePage:
    controller_name: Fact
    controller_address: Fact
    arco_email: Fact
    arco_phone: Fact
    arco_deadline: Fact
    periods: list[Period]
    version: str
    short_notice_url: str


def period_words(days: int) -> str:
    """A period as farmers read it: the days, and about how many months or years that is."""
    text = "1 día" if days == 1 else f"{days} días"
    years, months = round(days / 365.25), round(days / 30.44)
    if days >= 360:
        about = "un año" if years == 1 else f"unos {years} años"
    elif days >= 58:
        about = f"unos {months} meses"
    else:
        return text
    return f"{text} ({about})"


def notice_page(config: Settings, arco_business_days: int | None) -> NoticePage:
    """The notice's facts; ``arco_business_days``: the legal deadline to answer an ARCO request,
    once staff confirmed it (None: not verified yet)."""
    deadline = f"{arco_business_days} días hábiles" if arco_business_days else ""
    return NoticePage(
        controller_name=Fact(config.privacy_controller_name, "nombre legal del responsable"),
        controller_address=Fact(config.privacy_controller_address, "domicilio del responsable"),
        arco_email=Fact(config.privacy_arco_email, "correo para solicitudes de derechos ARCO"),
        arco_phone=Fact(config.privacy_arco_phone, "teléfono para solicitudes de derechos ARCO"),
        arco_deadline=Fact(deadline, "plazo de respuesta que fija la ley de 2025", "POR CONFIRMAR"),
        periods=[
            Period(kind, RETENTION_KINDS[kind], days, period_words(days), PERIOD_SETTINGS[kind])
            for kind, days in periods(config).items()
        ],
        version=NOTICE_VERSION,
        short_notice_url=config.privacy_notice_url,
    )
