"""The action server: rasa_sdk's own app for the ``actions`` package, behind a shared secret.

rasa_sdk 3.6 has no authentication: whoever reaches its webhook can post a tracker saying it is
any farmer. Here every request except ``GET /health`` must carry the secret in the
``X-Action-Token`` header (``ACTION_SERVER_TOKEN``, compared in constant time); anything else gets
401 with an empty body. Rasa sends the header from endpoints.yml (``action_endpoint.headers``,
``${ACTION_SERVER_TOKEN}``). Without the secret the server does not start.

    ACTION_SERVER_TOKEN=... python -m bot.action_server [--host 127.0.0.1] [--port 5055]

It binds ``ACTION_SERVER_HOST`` (127.0.0.1 by default; another address only when Rasa runs on
another machine, and then behind TLS) and port ``ACTION_SERVER_PORT`` (5055).
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys

from rasa_sdk import endpoint, utils
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.config import settings as program_settings
from bot.logs import failure
from bot.messaging import credentials

logger = logging.getLogger(__name__)

TOKEN_ENV = "ACTION_SERVER_TOKEN"
TOKEN_HEADER = "X-Action-Token"
OPEN = {("GET", "/health")}


def authorised(given: str | None, token: str) -> bool:
    """The secret, compared in constant time; never true without a configured secret."""
    return bool(token) and hmac.compare_digest((given or "").encode(), token.encode())


def create_app(token: str, actions_package: str = "actions") -> Sanic:
    """rasa_sdk's app with the secret checked before any of its routes, and failures answered
    without echoing the tracker back (rasa_sdk's own handler returns the request body)."""
    if not token:
        raise ValueError(f"{TOKEN_ENV} is empty: the action server never runs open")
    app = endpoint.create_app(actions_package, cors_origins=None)

    async def require_secret(request: Request) -> HTTPResponse | None:
        if (request.method, request.path) in OPEN:
            return None
        if authorised(request.headers.get(TOKEN_HEADER), token):
            return None
        return response.empty(status=401)

    async def failed(request: Request, exception: Exception) -> HTTPResponse:
        status = getattr(exception, "status_code", 500)
        if status >= 500:
            logger.error("action server request failed: %s", failure(exception))
            logger.debug("action server request failed", exc_info=exception)
        return response.json({"error": "request failed"}, status=status)

    async def check_first(app: Sanic, loop: object) -> None:
        # rasa_sdk's CORS extension puts its middleware first when the server starts (and it
        # answers every OPTIONS by itself); this runs after it and goes before it.
        app.request_middleware.appendleft(require_secret)

    app.register_listener(check_first, "before_server_start")
    app.error_handler.add(Exception, failed)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.action_server", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default=os.environ.get("ACTION_SERVER_HOST", "").strip() or "127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("ACTION_SERVER_PORT", "") or 5055))
    parser.add_argument("--actions", default="actions", help="the package of the actions")
    args = parser.parse_args(argv)
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        print(
            f"{TOKEN_ENV} is not set: the action server does not start without its secret.", file=sys.stderr
        )
        return 2
    if not credentials.fit_for_production({"DATABASE_URL": program_settings().database_url}):
        return 2  # on PostgreSQL, a user with a password of its own (SQLite: the embedded default)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    utils.update_sanic_log_level()
    app = create_app(token, args.actions)
    logger.info("action server on %s:%d (the secret is required)", args.host, args.port)
    app.run(host=args.host, port=args.port, workers=1, access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
