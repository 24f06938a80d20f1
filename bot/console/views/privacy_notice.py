"""The full privacy notice, served without login at /aviso-de-privacidad (security.py lists it
as public): the short notice the assistant shows at first contact points here."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from bot.config import settings
from bot.console.services.privacy_notice import notice_page
from bot.console.views.common import console_settings

bp = Blueprint("privacy_notice", __name__)
PATH = "/aviso-de-privacidad"


@bp.route(PATH)
def notice() -> ResponseReturnValue:
    page = notice_page(settings(), console_settings().arco_response_business_days)
    return render_template("privacy_notice.html", title="Aviso de privacidad", page=page)
