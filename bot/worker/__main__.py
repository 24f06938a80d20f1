"""python -m bot.worker --model models/<name>.tar.gz

Settings from the environment (deploy/production.env.example): DATABASE_URL, TRACKER_DATABASE_URL,
REDIS_URL, RABBITMQ_URL, INBOUND_PARTITIONS, INBOUND_QUEUE_PREFIX, ACTION_SERVER_URL,
ACTION_SERVER_TOKEN, WORKER_ID, WORKER_HTTP_PORT, ... The model is loaded before the worker takes
any partition, so a worker starting (a new model rolling out) never holds queues it cannot serve.
SIGTERM stops it cleanly: the messages in hand are finished and its partitions given back at once.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal

from bot.messaging.broker import BrokerSettings
from bot.worker.config import WorkerSettings

logger = logging.getLogger("bot.worker")


async def _run(model: str, settings: WorkerSettings) -> None:
    from rasa.utils.log_utils import configure_structlog

    from bot.worker.process import Worker
    from bot.worker.rasa_turns import load_assistant

    # Rasa's structured log goes through the standard loggers (and their levels set in main)
    configure_structlog(logging.getLevelName(os.environ.get("LOG_LEVEL_LIBRARIES", "WARNING")))

    logger.info("worker %s loading %s", settings.worker_id, model)
    assistant = await asyncio.get_running_loop().run_in_executor(None, load_assistant, model, settings)
    worker = Worker(settings, BrokerSettings.from_env(), assistant)
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
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s worker %(name)s %(message)s",
    )
    for noisy in ("rasa", "aio_pika", "aiormq", "tensorflow", "absl"):
        logging.getLogger(noisy).setLevel(os.environ.get("LOG_LEVEL_LIBRARIES", "WARNING"))
    settings = WorkerSettings.from_env()
    if args.http_port:
        settings = WorkerSettings(**{**settings.__dict__, "http_port": args.http_port})
    if not settings.action_token:
        logger.error("ACTION_SERVER_TOKEN is not set: every action call would be refused")
        return 2
    asyncio.run(_run(args.model, settings))
    # Everything is recorded and the partitions are given back: leave without TensorFlow's
    # seconds-long teardown (a supervisor kills a process that takes too long to stop).
    logging.shutdown()
    os._exit(0)


if __name__ == "__main__":
    raise SystemExit(main())
