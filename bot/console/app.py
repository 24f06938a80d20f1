"""The staff console as a Flask application factory.

Every page needs a logged-in staff account and every form carries a CSRF token (security.py);
each request has one short SQLAlchemy session, committed when the request ends without an error
(sessions.py). Pages are Blueprints in views/, their decisions in services/.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from bot.console import errors, security, sessions, templating, views
from bot.console.config import ConsoleSettings, flask_config, secret_key


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(flask_config(ConsoleSettings.from_env()))
    app.config.update(config or {})
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key()
    settings: ConsoleSettings = app.config["CONSOLE_SETTINGS"]
    sessions.init_app(app, settings.database_url)
    security.init_app(app)
    errors.init_app(app)
    templating.init_app(app, settings.timezone)
    views.register(app)
    return app
