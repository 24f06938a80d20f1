"""python -m bot.worker --model models/<name>.tar.gz

Settings from the environment (deploy/production.env.example): DATABASE_URL, TRACKER_DATABASE_URL,
REDIS_URL, RABBITMQ_URL, INBOUND_PARTITIONS, INBOUND_QUEUE_PREFIX, ACTION_SERVER_URL,
ACTION_SERVER_TOKEN, WORKER_ID, WORKER_HTTP_PORT, ... The model is loaded before the worker takes
any partition, so a worker starting (a new model rolling out) never holds queues it cannot serve.
SIGTERM stops it cleanly: the messages in hand are finished and its partitions given back at once.
It refuses to start (exit code 2) on PostgreSQL, RabbitMQ or Redis without credentials of their own
(bot/messaging/credentials.py).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
from pathlib import Path

from bot.config import settings as program_settings
from bot.heap import freeze_startup_objects
from bot.logs import configure_process
from bot.messaging import credentials
from bot.messaging.broker import BrokerSettings
from bot.worker.config import WorkerSettings

logger = logging.getLogger("bot.worker")


async def _run(model: str, settings: WorkerSettings, broker: BrokerSettings) -> None:
    from rasa.utils.log_utils import configure_structlog

    from bot.worker.process import Worker
    from bot.worker.rasa_turns import load_assistant, lock_store_for

    # Rasa's structured log goes through the standard loggers (and their levels set in main)
    configure_structlog(logging.getLevelName(os.environ.get("LOG_LEVEL_LIBRARIES", "WARNING")))

    logger.info("worker %s loading %s", settings.worker_id, model)
    assistant = await asyncio.get_running_loop().run_in_executor(None, load_assistant, model, settings)
    # the same Redis keys as the assistant's lock store: a taken-over turn's lock is deleted there
    # the file itself (a link such as models/current.tar.gz names the one it pointed to at load)
    loaded = Path(model).resolve().name
    worker = Worker(
        settings, broker, assistant, lock_store=lock_store_for(settings.redis_url), model_name=loaded
    )
    freeze_startup_objects()  # the model and Rasa's objects: collections walk only a turn's
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    await worker.start()
    try:
        await stop.wait()
    finally:
        await worker.stop()
        assistant.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.worker", description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="models/<name>.tar.gz")
    parser.add_argument("--http-port", type=int, help="liveness, readiness and metrics (WORKER_HTTP_PORT)")
    args = parser.parse_args(argv)
    settings = WorkerSettings.from_env()
    broker = BrokerSettings.from_env()
    services = {
        "DATABASE_URL": program_settings().database_url,
        "TRACKER_DATABASE_URL": settings.tracker_url,
        "RABBITMQ_URL": broker.url,
        "REDIS_URL": settings.redis_url,
    }
    if not credentials.fit_for_production(services):
        return 2
    configure_process("worker")
    for noisy in ("rasa", "aio_pika", "aiormq", "tensorflow", "absl"):
        logging.getLogger(noisy).setLevel(os.environ.get("LOG_LEVEL_LIBRARIES", "WARNING"))
    if args.http_port:
        settings = WorkerSettings(**{**settings.__dict__, "http_port": args.http_port})
    if not settings.action_token:
        logger.error("ACTION_SERVER_TOKEN is not set: every action call would be refused")
        return 2
    asyncio.run(_run(args.model, settings, broker))
    # Everything is recorded and the partitions are given back: leave without TensorFlow's
    # seconds-long teardown (a supervisor kills a process that takes too long to stop).
    logging.shutdown()
    os._exit(0)


if __name__ == "__main__":
    raise SystemExit(main())
