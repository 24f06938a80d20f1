"""The console's pages, one Blueprint per page. A view parses the request, calls its page's
service (services/) and renders; it decides nothing itself."""

from __future__ import annotations

from flask import Flask

from bot.console.views import (
    accounts,
    arco,
    broadcasts,
    checks,
    conversations,
    dashboard,
    imports,
    knowledge,
    login,
    notices,
    privacy_notice,
    queue,
    records,
    review,
)

BLUEPRINTS = (
    login.bp,
    privacy_notice.bp,
    conversations.bp,
    review.bp,
    queue.bp,
    records.bp,
    knowledge.bp,
    checks.bp,
    arco.bp,
    imports.bp,
    dashboard.bp,
    accounts.bp,
    notices.bp,
    broadcasts.bp,
)


def register(app: Flask) -> None:
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
