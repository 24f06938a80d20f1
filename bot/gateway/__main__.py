"""python -m bot.gateway [--host 127.0.0.1] [--port 5005]

Settings from the environment (deploy/production.env.example): DATABASE_URL, RABBITMQ_URL,
INBOUND_PARTITIONS, INBOUND_QUEUE_PREFIX, TWILIO_AUTH_TOKEN, TWILIO_PUBLIC_BASE_URL,
TWILIO_MAX_BODY_BYTES; GATEWAY_HOST and GATEWAY_PORT for the address; GATEWAY_SPOOL and
GATEWAY_SPOOL_MAX_BYTES for the spool that takes messages while the database is down
(bot/messaging/gateway_spool.py). It refuses to start (exit
code 2) on PostgreSQL or RabbitMQ without credentials of their own (bot/messaging/credentials.py)."""

from __future__ import annotations

import argparse
import logging
import os

from bot.config import settings
from bot.gateway.app import Gateway, create_app
from bot.heap import freeze_startup_objects
from bot.logs import configure_process
from bot.messaging import credentials
from bot.messaging.broker import BrokerSettings
from bot.messaging.config import TwilioSettings
from bot.messaging.gateway_spool import SpoolSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.gateway", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default=os.environ.get("GATEWAY_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GATEWAY_PORT", "5005")))
    args = parser.parse_args(argv)
    broker = BrokerSettings.from_env()
    if not credentials.fit_for_production(
        {"DATABASE_URL": settings().database_url, "RABBITMQ_URL": broker.url}
    ):
        return 2
    configure_process("gateway")
    twilio = TwilioSettings.from_env()
    for name, value in (
        ("TWILIO_AUTH_TOKEN", twilio.auth_token),
        ("TWILIO_PUBLIC_BASE_URL", twilio.public_base_url),
    ):
        if not value:  # every webhook would get 403
            logging.getLogger(__name__).error("gateway misconfigured: %s is not set", name)
    app = create_app(Gateway(twilio, broker, SpoolSettings.from_env(args.port)))
    freeze_startup_objects()
    app.run(host=args.host, port=args.port, access_log=False, workers=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
