"""The error pages staff see: a refused form, a forbidden action, a missing page."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, render_template
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError

# error -> (status, title, message)
ERROR_PAGES = {
    CSRFError: (
        400,
        "Formulario vencido",
        "El formulario no es válido o ya venció. Vuelva a la página e inténtelo de nuevo.",
    ),
    403: (403, "Sin permiso", "Su cuenta no tiene permiso para esta acción."),
    404: (404, "No encontrado", "La página o el registro no existe."),
}


def init_app(app: Flask) -> None:
    for error, (status, title, message) in ERROR_PAGES.items():
        app.register_error_handler(error, _page(status, title, message))


def _page(status: int, title: str, message: str) -> Callable[[Exception], ResponseReturnValue]:
    def handler(_error: Exception) -> ResponseReturnValue:
        return render_template("error.html", title=title, message=message), status

    return handler
