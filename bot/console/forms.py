"""The console's forms. Flask-WTF adds and checks the CSRF token on every one of them. Choices
come from the vocabularies; forms that start from a record are built by the functions at the end."""

from __future__ import annotations

from collections.abc import Iterable

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from bot.console.schema import ConsoleReview, ConsoleUser
from bot.console.services.accounts import MIN_PASSWORD
from bot.console.vocabulary import ROLES, UPLOAD_KINDS
from bot.records.broadcasts import Audience, AudienceChoices
from bot.records.schema import Explanation, FaqEntry, HumanRequest
from bot.records.vocabulary import MEDIA, REQUEST_STATUSES

ROLE_CHOICES = [(code, role.label) for code, role in ROLES.items()]
REQUEST_STATUS_CHOICES = list(REQUEST_STATUSES.items())
MEDIUM_CHOICES = list(MEDIA.items())
UPLOAD_KIND_CHOICES = list(UPLOAD_KINDS.items())
UNASSIGNED = ("", "sin asignar")
ANY = ""  # a broadcast's audience filter: everyone


class LoginForm(FlaskForm):
    username = StringField("Usuario", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Contraseña", validators=[DataRequired(), Length(max=200)])


class LogoutForm(FlaskForm):
    pass


class ReviewForm(FlaskForm):
    reviewed = BooleanField("Conversación revisada")
    tags = StringField("Etiquetas (separadas por comas)", validators=[Length(max=400)])
    note = TextAreaField("Nota", validators=[Length(max=4000)])


class CorrectionForm(FlaskForm):
    event_id = IntegerField(validators=[DataRequired()])
    intent = SelectField("Intención correcta", validators=[DataRequired()])
    entities = TextAreaField(
        "Entidades (una por línea: entidad: fragmento del texto)", validators=[Length(max=2000)]
    )


class ReplyForm(FlaskForm):
    body = TextAreaField("Mensaje para el productor", validators=[DataRequired(), Length(max=1500)])
    medium = SelectField("Enviar por", choices=MEDIUM_CHOICES)
    use_template = BooleanField("Usar la plantilla aprobada de WhatsApp")
    human_request_id = HiddenField()


class HandoverForm(FlaskForm):
    assigned_to = SelectField("Asignada a", choices=[])
    status = SelectField("Estado", choices=REQUEST_STATUS_CHOICES)


class UploadForm(FlaskForm):
    kind = SelectField("Tipo de archivo", choices=UPLOAD_KIND_CHOICES)
    file = FileField("Archivo CSV (UTF-8)", validators=[FileRequired("Elija un archivo CSV.")])


class ApplyUploadForm(FlaskForm):
    """Applying a previewed file; when it changes invoice amounts, staff confirm those very changes."""

    confirm_amounts = BooleanField("Revisé los cambios de monto marcados y los confirmo")
    amounts_key = HiddenField()


class UnlockForm(FlaskForm):
    """Lifting one phone's check lock for one farmer."""

    phone = HiddenField(validators=[DataRequired(), Length(max=20)])
    farmer_id = IntegerField(validators=[DataRequired()])


class ResetPinForm(FlaskForm):
    pass


class ReleasePhoneForm(FlaskForm):
    """Marking one of a farmer's phones as no longer theirs; the box is the confirmation."""

    phone = HiddenField(validators=[DataRequired(), Length(max=20)])
    confirm = BooleanField(validators=[DataRequired()])
    note = TextAreaField(validators=[Optional(), Length(max=500)])


class ExplanationForm(FlaskForm):
    """An explanation's texts; the service checks them (services/knowledge.py)."""

    code = HiddenField()
    title = StringField("Título")
    keywords = TextAreaField("Palabras clave (separadas por comas)")
    explanation = TextAreaField("Explicación")
    what_to_do = TextAreaField("Qué puede hacer el productor")
    source = StringField("Fuente")


class FaqForm(FlaskForm):
    """An FAQ entry; the service checks it (services/knowledge.py)."""

    code = HiddenField()
    question = StringField("Pregunta")
    keywords = TextAreaField("Palabras clave (separadas por comas)")
    answer = TextAreaField("Respuesta")
    source = StringField("Fuente")


class NewFaqForm(FaqForm):
    code = StringField("Clave (corta, sin espacios: horario_sabado)")


class NewUserForm(FlaskForm):
    username = StringField("Usuario", validators=[DataRequired(), Length(max=80)])
    role = SelectField("Rol", choices=ROLE_CHOICES)
    password = PasswordField(
        f"Contraseña (mínimo {MIN_PASSWORD} caracteres, sin el usuario, no una de las comunes)",
        validators=[DataRequired(), Length(max=200)],
    )


class EditUserForm(FlaskForm):
    role = SelectField("Rol", choices=ROLE_CHOICES)
    active = BooleanField("Cuenta activa")
    password = PasswordField("Nueva contraseña (opcional)", validators=[Optional(), Length(max=200)])


# A municipality's choice names its state too ("Michoacán|Uruapan"): names repeat across states.
PLACE_SEPARATOR = "|"


class BroadcastForm(FlaskForm):
    """A broadcast's text and audience: one button previews, the other sends it for approval. The
    service checks the text (services/broadcasts.py); the choices come from the records
    (broadcast_form), so an option that is not there is refused here."""

    text = TextAreaField("Mensaje", validators=[Length(max=1600)])
    state = SelectField("Estado", choices=[])
    municipality = SelectField("Municipio", choices=[])
    product = SelectField("Cultivo", choices=[])
    organisation_id = SelectField("Organización", choices=[])
    medium = SelectField("Medio preferido", choices=[(ANY, "Todos"), *MEDIUM_CHOICES])
    preview = SubmitField("Ver vista previa")
    send = SubmitField("Enviar a aprobación")

    def audience(self) -> Audience:
        """The audience as chosen (validated: each value is one of the choices)."""
        organisation = self.organisation_id.data or ANY
        state, _, municipality = (self.municipality.data or "").rpartition(PLACE_SEPARATOR)
        return Audience(
            state=self.state.data or state or None,  # a municipality is in its state
            municipality=municipality or None,
            product=self.product.data or None,
            organisation_id=int(organisation) if organisation != ANY else None,
            medium=self.medium.data or None,
        )


class ApproveBroadcastForm(FlaskForm):
    pass


class RejectBroadcastForm(FlaskForm):
    note = TextAreaField(
        "Nota para quien la escribió (opcional): por qué se rechaza",
        validators=[Optional(), Length(max=1000)],
    )


# --- forms built from records -------------------------------------------------------------------


def correction_form(
    event_id: int,
    intents: Iterable[str],
    intent: str | None = None,
    entities: str = "",
    submitted: bool = False,
) -> CorrectionForm:
    """The correction form of one farmer message: as submitted, or filled with its defaults."""
    form = CorrectionForm(prefix=f"c{event_id}", **({} if submitted else {"formdata": None}))
    form.intent.choices = [(i, i) for i in intents]
    if not submitted:
        form.event_id.data, form.intent.data, form.entities.data = event_id, intent, entities
    return form


def handover_form(request_id: int, staff: list[str], row: HumanRequest | None = None) -> HandoverForm:
    """A request's assignment form: filled from the request when given, else from the POST."""
    form = HandoverForm(prefix=f"h{request_id}", **({"formdata": None} if row is not None else {}))
    form.assigned_to.choices = [UNASSIGNED] + [(name, name) for name in staff]
    if row is not None:
        form.assigned_to.data, form.status.data = row.assigned_to or "", row.status
    return form


def review_form(review: ConsoleReview | None, tags: list[str]) -> ReviewForm:
    return ReviewForm(
        formdata=None,
        reviewed=bool(review and review.reviewed),
        tags=", ".join(tags),
        note=review.note if review else "",
    )


def reply_form(medium: str, window_open: bool, open_request: HumanRequest | None) -> ReplyForm:
    """WhatsApp when the farmer writes there and its window is open, else SMS; linked to the
    phone's open request, if any."""
    form = ReplyForm(formdata=None)
    form.medium.data = "whatsapp" if medium == "whatsapp" and window_open else "sms"
    form.human_request_id.data = str(open_request.id) if open_request else ""
    return form


def edit_user_form(user: ConsoleUser) -> EditUserForm:
    return EditUserForm(formdata=None, prefix=f"u{user.id}", role=user.role, active=user.active)


def explanation_form(entry: Explanation) -> ExplanationForm:
    return ExplanationForm(
        formdata=None,
        code=entry.code,
        title=entry.title,
        keywords=", ".join(w for w in entry.keywords.split(",") if w),
        explanation=entry.explanation,
        what_to_do=entry.what_to_do,
        source=entry.source,
    )


def faq_form(entry: FaqEntry) -> FaqForm:
    return FaqForm(
        formdata=None,
        code=entry.code,
        question=entry.question,
        keywords=", ".join(w for w in entry.keywords.split(",") if w),
        answer=entry.answer,
        source=entry.source,
    )


def broadcast_form(choices: AudienceChoices) -> BroadcastForm:
    """The composer, as submitted (or empty), with each filter's choices as the records are now.
    Municipalities are grouped by state: a name may repeat in another state."""
    form = BroadcastForm()
    form.state.choices = [(ANY, "Todos"), *((s, s) for s in choices.states)]
    grouped: dict[str, list[tuple[str, str]]] = {}
    for state, municipality in choices.municipalities:
        grouped.setdefault(state, []).append((f"{state}{PLACE_SEPARATOR}{municipality}", municipality))
    form.municipality.choices = {"": [(ANY, "Todos")], **grouped}
    form.product.choices = [(ANY, "Todos"), *((p, p) for p in choices.products)]
    form.organisation_id.choices = [(ANY, "Todas"), *((str(i), name) for i, name in choices.organisations)]
    return form
