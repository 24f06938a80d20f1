"""The staff console as a Flask application factory.

Every page needs a logged-in staff account (Flask-Login); every form carries a CSRF token
(Flask-WTF); each request has one short SQLAlchemy session, committed when the request ends
without an error (so audit entries of a page view are kept) and rolled back otherwise.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Optional

from flask import Flask, g, redirect, render_template, request, url_for
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.orm import sessionmaker

from bot.console import auth
from bot.console.config import ConsoleSettings, secret_key
from bot.console.data import local, mask_amounts
from bot.db import engine
from bot.replies.spanish import local_datetime, money

logger = logging.getLogger(__name__)

PUBLIC_ENDPOINTS = {"console.login", "static"}
MEDIUM_NAMES = {"whatsapp": "WhatsApp", "sms": "SMS", None: "—", "": "—"}
INVOICE_STATUS_NAMES = {
    "received": "recibida", "in_review": "en revisión", "scheduled": "pago programado",
    "paid": "pagada", "rejected": "rechazada", "on_hold": "retenida",
}
REQUEST_STATUS_NAMES = {"open": "abierta", "in_progress": "en atención", "closed": "cerrada"}
REPLY_STATUS_NAMES = {"pending": "pendiente", "sent": "enviada", "failed": "falló",
                      "skipped_opt_out": "no enviada (BAJA)"}
DELIVERY_NAMES = {
    "pending": "enviando", "outbox": "en cola de reintento", "skipped_opt_out": "no enviado (BAJA)",
    "accepted": "aceptado", "scheduled": "programado", "queued": "en cola", "sending": "enviando",
    "sent": "enviado", "delivered": "entregado", "undelivered": "no entregado", "failed": "falló",
    "read": "leído", "canceled": "cancelado", "partially_delivered": "entregado en parte",
}


def create_app(config: Optional[dict[str, Any]] = None) -> Flask:
    app = Flask(__name__)
    settings = ConsoleSettings.from_env()
    app.config.update(
        SECRET_KEY=None,
        CONSOLE_SETTINGS=settings,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        MAX_CONTENT_LENGTH=5 * 1024 * 1024,  # CSV uploads
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
    )
    if config:
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key()
    settings = app.config["CONSOLE_SETTINGS"]
    app.extensions["console_sessions"] = sessionmaker(
        bind=engine(settings.database_url), future=True, expire_on_commit=False)

    CSRFProtect(app)
    login = LoginManager(app)
    login.login_view = "console.login"
    login.login_message = "Inicie sesión para continuar."
    login.session_protection = "strong"

    @login.user_loader
    def _load(user_id: str):
        return auth.load_user(db(), user_id)

    @app.before_request
    def _require_login():
        if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
            return None
        if not current_user.is_authenticated:
            return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
        return None

    @app.teardown_request
    def _close(exc: Optional[BaseException]) -> None:
        session = g.pop("db", None)
        if session is None:
            return
        try:
            if exc is None:
                session.commit()
            else:
                session.rollback()
        finally:
            session.close()

    @app.after_request
    def _access_log(response):
        # The URL rule, never the path or query: paths carry phone numbers, queries names.
        rule = request.url_rule.rule if request.url_rule else "?"
        logger.info("%s %s %s", request.method, rule, response.status_code)
        return response

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; "
            "form-action 'self'; frame-ancestors 'none'")
        if current_user.is_authenticated:
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(CSRFError)
    def _csrf(error):
        return render_template("error.html", title="Formulario vencido",
                               message="El formulario no es válido o ya venció. Vuelva a la página "
                                       "e inténtelo de nuevo."), 400

    @app.errorhandler(403)
    def _forbidden(error):
        return render_template("error.html", title="Sin permiso",
                               message="Su cuenta no tiene permiso para esta acción."), 403

    @app.errorhandler(404)
    def _missing(error):
        return render_template("error.html", title="No encontrado",
                               message="La página o el registro no existe."), 404

    zone = settings.timezone

    @app.template_filter("when")
    def _when(moment, fmt: str = "%d/%m/%Y %H:%M") -> str:
        value = local(moment, zone)
        return value.strftime(fmt) if value else "—"

    @app.template_filter("day")
    def _day(value) -> str:
        return value.strftime("%d/%m/%Y") if value else "—"

    @app.template_filter("money")
    def _money(amount) -> str:
        return money(amount) if amount is not None else "—"

    @app.template_filter("pct")
    def _pct(value) -> str:
        return f"{value:.0%}" if value is not None else "—"

    @app.template_filter("minutes")
    def _minutes(value) -> str:
        """Waiting time for people: '35 min', '4.5 h', '2.9 días'."""
        if value is None:
            return "—"
        if value < 90:
            return f"{value:.0f} min"
        if value < 48 * 60:
            return f"{value / 60:.1f} h"
        return f"{value / 1440:.1f} días"

    @app.template_filter("shown")
    def _shown(text: str) -> str:
        """Message text as this user may see it (no amounts for viewers)."""
        if current_user.is_authenticated and current_user.can("amounts"):
            return text or ""
        return mask_amounts(text or "")

    app.jinja_env.globals.update(
        MEDIUM_NAMES=MEDIUM_NAMES, INVOICE_STATUS_NAMES=INVOICE_STATUS_NAMES,
        REQUEST_STATUS_NAMES=REQUEST_STATUS_NAMES, REPLY_STATUS_NAMES=REPLY_STATUS_NAMES,
        DELIVERY_NAMES=DELIVERY_NAMES,
        local_training=lambda t: local_datetime(t.starts_at, t.timezone),
    )

    from bot.console.views import bp

    app.register_blueprint(bp)
    return app


def db():
    """This request's SQLAlchemy session."""
    from flask import current_app

    if "db" not in g:
        g.db = current_app.extensions["console_sessions"]()
    return g.db
