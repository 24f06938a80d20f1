"""Login on every page but the login page and the public privacy notice, CSRF on every form, and
the headers and access log of every response. Sessions are Flask-Login's, CSRF is Flask-WTF's."""

from __future__ import annotations

import logging

from flask import Flask, current_app, redirect, request, url_for
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from werkzeug.wrappers import Response

from bot.console import auth
from bot.console.sessions import request_session

logger = logging.getLogger(__name__)

LOGIN_ENDPOINT = "login.login"
PRIVACY_NOTICE_ENDPOINT = "privacy_notice.notice"  # the full privacy notice farmers are sent to
PUBLIC_ENDPOINTS = {LOGIN_ENDPOINT, PRIVACY_NOTICE_ENDPOINT, "static"}
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000"  # a year; sent only when CONSOLE_HTTPS is set


def init_app(app: Flask) -> None:
    CSRFProtect(app)
    login = LoginManager(app)
    login.login_view = LOGIN_ENDPOINT
    login.login_message = "Inicie sesión para continuar."
    login.session_protection = "strong"
    login.user_loader(_load_user)
    app.before_request(_require_login)
    app.after_request(_log_access)
    app.after_request(_security_headers)


def _load_user(user_id: str) -> auth.StaffUser | None:
    return auth.load_user(request_session(), user_id)


def _require_login() -> Response | None:
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for(LOGIN_ENDPOINT, next=request.full_path.rstrip("?")))
    return None


def _log_access(response: Response) -> Response:
    # The URL rule, never the path or query: paths carry phone numbers, queries names.
    rule = request.url_rule.rule if request.url_rule else "?"
    logger.info("%s %s %s", request.method, rule, response.status_code)
    return response


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    if current_user.is_authenticated:
        response.headers.setdefault("Cache-Control", "no-store")
    if current_app.config["CONSOLE_SETTINGS"].https:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response
