"""The dashboard of a period."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from bot.console.services.dashboard import dashboard_page
from bot.console.sessions import request_session
from bot.console.views.common import console_settings, date_arg, refresh_conversations

bp = Blueprint("dashboard", __name__)


@bp.route("/panel")
def dashboard() -> ResponseReturnValue:
    refresh_conversations()
    page = dashboard_page(
        request_session(), date_arg("desde"), date_arg("hasta"), console_settings().timezone
    )
    return render_template(
        "dashboard.html",
        title="Panel",
        d=page.d,
        charts=page.charts,
        day_from=page.day_from,
        day_to=page.day_to,
        series=page.series,
    )
