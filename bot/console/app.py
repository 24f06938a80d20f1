"""The staff console as a Flask application factory.

Every page needs a logged-in staff account and every form carries a CSRF token (security.py);
each request has one short SQLAlchemy session, committed when the request ends without an error
(sessions.py). Pages are Blueprints in views/, their decisions in services/.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from bot.console import errors, security, sessions, templating, views
from bot.console.config import ConsoleSettings, flask_config, secret_key


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    settings: ConsoleSettings = (config or {}).get("CONSOLE_SETTINGS") or ConsoleSettings.from_env()
    app.config.update(flask_config(settings))
    app.config.update(config or {})
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key()
    if settings.trusted_proxies:
        # Only behind that many proxies does X-Forwarded-For name the client (request.remote_addr).
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    sessions.init_app(app, settings.database_url)
    security.init_app(app)
    errors.init_app(app)
    templating.init_app(app, settings.timezone)
    views.register(app)
    return app
