"""A production worker for `make bench-notices`, run as its own process:

    python -m bench.notices_worker        (settings from the environment, as python -m bot.worker)

It is production's Worker (bot/worker/process.py: partition leases and heartbeats, a consumer on
each held RabbitMQ queue, the claims, the recovery loop, a phone's messages in order, and the
turn's replies queued for the senders by bot/messaging/turns.py) with one difference: a notice's
turn runs the assistant's own notice handler in this process (bot.assistant.skills.respond with
the notice intent: what the action server runs when Rasa predicts the notice's action), on one
thread as the Rasa worker runs its turns, instead of loading a Rasa model. What that leaves out,
and why: bench/results/notices.md.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.assistant import intents  # noqa: E402
from bot.assistant.skills import respond  # noqa: E402
from bot.assistant.turn import Reply, Turn  # noqa: E402
from bot.channels.turn_threads import TurnThreads  # noqa: E402
from bot.channels.twilio_form import metadata_for  # noqa: E402
from bot.logs import configure_process  # noqa: E402
from bot.messaging.broker import BrokerSettings  # noqa: E402
from bot.messaging.formatting import collected_texts  # noqa: E402
from bot.messaging.inbound import NOTICE, Inbound  # noqa: E402
from bot.worker.config import WorkerSettings  # noqa: E402
from bot.worker.process import Worker  # noqa: E402
from bot.worker.rasa_turns import TurnResult  # noqa: E402

logger = logging.getLogger("bench.notices_worker")


class NoticeTurns:
    """The turn of a notice without Rasa: the Turn the action server would build from Rasa's
    tracker for the notice intent (bot/channels/twilio_form.py gives the intent, no NLU), and
    the texts Rasa's collecting channel would hold."""

    def __init__(self) -> None:
        self.threads = TurnThreads(1)

    async def turn(self, message: Inbound, retried: bool) -> TurnResult:
        if message.kind != NOTICE:  # this bench stores nothing else
            return TurnResult([], "not a notice")
        turn = Turn(
            conversation_id=message.phone,
            phone=message.phone,
            text="",
            intent=intents.NOTICE,
            metadata=metadata_for(message),
            message_id=message.message_sid,
        )

        async def handled() -> Reply:
            return respond(intents.NOTICE, turn)

        reply = await self.threads.run(handled)
        return TurnResult(collected_texts({"text": text} for text in reply.texts()))


async def run() -> None:
    worker = Worker(WorkerSettings.from_env(), BrokerSettings.from_env(), NoticeTurns())
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    await worker.start(http=False)
    try:
        await stop.wait()
    finally:
        await worker.stop()


def main() -> int:
    configure_process(f"worker {os.environ.get('WORKER_ID', '')}".strip())
    for noisy in ("aio_pika", "aiormq"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    asyncio.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
