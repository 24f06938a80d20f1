"""The forms of ARCO requests (views/arco.py). Flask-WTF adds and checks the CSRF token; what the
fields say is checked by the service (services/arco.py). Choices come from the vocabularies."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import Optional

from bot.records.schema import Farmer, Organisation
from bot.records.vocabulary import ARCO_RIGHTS, MEDIA, OPPOSITION_PURPOSES

NO_ORGANISATION = ""
ALL_NUMBERS = ""


class RecordArcoForm(FlaskForm):
    arco_right = SelectField("Derecho que pide", choices=list(ARCO_RIGHTS.items()))
    received_on = DateField("Fecha en que se recibió", validators=[Optional()])
    identity_check = TextAreaField("Cómo se comprobó la identidad de quien pide")
    notes = TextAreaField("Notas (opcional)")


class CloseArcoForm(FlaskForm):
    outcome = SelectField(
        "Cómo se cierra", choices=[("done", "atendida"), ("rejected", "rechazada")], validate_choice=False
    )
    note = TextAreaField("Nota (obligatoria al rechazar: por qué)")


class ConfirmForm(FlaskForm):
    """Bloqueo and supresión: the box is the confirmation."""

    confirm = BooleanField("Confirmo")


class RectifyForm(FlaskForm):
    name = StringField("Nombre")
    municipality = StringField("Municipio")
    state = StringField("Estado")
    organisation_id = SelectField("Organización", validate_choice=False)
    preferred_medium = SelectField("Medio preferido", choices=list(MEDIA.items()), validate_choice=False)


class OpposeForm(FlaskForm):
    purposes = SelectMultipleField(
        "Finalidades a las que se opone",
        choices=list(OPPOSITION_PURPOSES.items()),
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
        validate_choice=False,
    )
    phone = SelectField("Para qué número", validate_choice=False)


def rectify_form(farmer: Farmer, organisations: list[Organisation], submitted: bool = False) -> RectifyForm:
    """The rectification form, filled from the farmer's record (or as submitted)."""
    form = RectifyForm(**({} if submitted else {"formdata": None}))
    form.organisation_id.choices = [(NO_ORGANISATION, "ninguna")] + [
        (str(o.id), o.name) for o in organisations
    ]
    if not submitted:
        form.name.data, form.municipality.data, form.state.data = (
            farmer.name,
            farmer.municipality,
            farmer.state,
        )
        form.organisation_id.data = str(farmer.organisation_id or NO_ORGANISATION)
        form.preferred_medium.data = farmer.preferred_medium
    return form


def oppose_form(phones: list[str], submitted: bool = False) -> OpposeForm:
    form = OpposeForm(**({} if submitted else {"formdata": None}))
    form.phone.choices = [(ALL_NUMBERS, "todos sus números")] + [(p, p) for p in phones]
    return form


def organisation_id(value: str | None) -> int | None:
    """The chosen organisation's id; None for none; -1 (no organisation has it) for anything else."""
    if not value:
        return None
    return int(value) if value.isdigit() else -1


def close_form() -> CloseArcoForm:
    """Closing a request, as answered by default."""
    return CloseArcoForm(formdata=None, outcome="done")
