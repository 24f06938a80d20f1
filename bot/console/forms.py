"""The console's forms. Flask-WTF adds and checks the CSRF token on every one of them."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from bot.console.auth import ROLE_NAMES

ROLE_CHOICES = [(key, name) for key, name in ROLE_NAMES.items()]
STATUS_CHOICES = [("open", "abierta"), ("in_progress", "en atención"), ("closed", "cerrada")]
MEDIUM_CHOICES = [("whatsapp", "WhatsApp"), ("sms", "SMS")]


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
    entities = TextAreaField("Entidades (una por línea: entidad: fragmento del texto)",
                             validators=[Length(max=2000)])


class ReplyForm(FlaskForm):
    body = TextAreaField("Mensaje para el productor", validators=[DataRequired(), Length(max=1500)])
    medium = SelectField("Enviar por", choices=MEDIUM_CHOICES)
    use_template = BooleanField("Usar la plantilla aprobada de WhatsApp")
    human_request_id = HiddenField()


class HandoverForm(FlaskForm):
    assigned_to = SelectField("Asignada a", choices=[])
    status = SelectField("Estado", choices=STATUS_CHOICES)


class UploadForm(FlaskForm):
    kind = SelectField("Tipo de archivo", choices=[("invoices", "Facturas"),
                                                    ("trainings", "Capacitaciones")])
    file = FileField("Archivo CSV (UTF-8)", validators=[FileRequired("Elija un archivo CSV.")])


class ApplyUploadForm(FlaskForm):
    pass


class NewUserForm(FlaskForm):
    username = StringField("Usuario", validators=[DataRequired(), Length(max=80)])
    role = SelectField("Rol", choices=ROLE_CHOICES)
    password = PasswordField("Contraseña (mínimo 10 caracteres)", validators=[DataRequired()])


class EditUserForm(FlaskForm):
    role = SelectField("Rol", choices=ROLE_CHOICES)
    active = BooleanField("Cuenta activa")
    password = PasswordField("Nueva contraseña (opcional)", validators=[Optional()])
