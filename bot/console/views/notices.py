"""Notices (issue 14): every notice the program planned, with where it stands and how it was
delivered, filtered by status."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from bot.console.auth import requires
from bot.console.services import notices
from bot.console.sessions import request_session
from bot.console.views.common import args_without_page, console_settings, page_arg

bp = Blueprint("notices", __name__)


@bp.route("/avisos", endpoint="notices")
@requires("read")
def notice_list() -> ResponseReturnValue:
    found = notices.notices_page(
        request_session(),
        current_user,
        request.args.get("estado", notices.ALL),
        page_arg(),
        console_settings().page_size,
    )
    return render_template("notices.html", title="Avisos", found=found, args=args_without_page())
