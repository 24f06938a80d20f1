"""The production mode on private services, as `make chaos` and `make bench-load` bring it up.

Private PostgreSQL, RabbitMQ and Redis in a temporary folder on spare ports (bench/chaos_services.py),
the Twilio stand-in, the action server, Rasa workers, webhook gateways and the sender, each a
process of its own started as scripts/production.sh starts it (migrated once first, the demo
records seeded). Everything started is stopped by the caller's ExitStack.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path

from bench.chaos_services import PrivatePostgres, PrivateRabbit, Proc, private_redis, python
from bot.messaging.broker import BrokerSettings
from bot.stack import free_port
from bot.twilio_standin.client import StandinClient
from tests.production.processes import AUTH_TOKEN, gateway_env

ROOT = Path(__file__).resolve().parent.parent


class Production:
    """The production mode on private services; ``workers`` maps a worker id to its process.

    ``settings`` go to every process on top of production's (the benches shorten timings or
    lift the sender's pace); ``prefix`` names the workers and the queues; ``track_statements``
    loads pg_stat_statements in PostgreSQL (bench/pg_statements.py)."""

    def __init__(
        self,
        folder: Path,
        model: str,
        stack: ExitStack,
        settings: Mapping[str, str] | None = None,
        prefix: str = "chaos",
        track_statements: bool = False,
    ):
        self.folder, self.model, self.stack = folder, model, stack
        self.track_statements = track_statements
        self.settings, self.prefix = dict(settings or {}), prefix
        self.logs = folder / "logs"
        self.logs.mkdir()
        self.workers: dict[str, Proc] = {}
        self.worker_ports: dict[str, int] = {}
        self.worker_count = 0
        self.gateway_procs: list[Proc] = []
        self.gateways: list[str] = []

    def up(self, workers: int = 2, gateways: int = 2) -> None:
        self.support()
        self.start_workers(workers)
        self.start_gateways(gateways)
        self.start_sender()

    def support(self) -> None:
        """What the workers and gateways need: the services, the Twilio stand-in, the action server."""
        self.services()
        self.standin = self.start_standin()
        self.actions = self.start_actions()

    def services(self) -> None:
        """PostgreSQL (migrated, the demo records seeded), RabbitMQ and Redis; the settings."""
        self.pg = PrivatePostgres(self.folder, track_statements=self.track_statements)
        self.pg.start()
        self.stack.callback(self.pg.stop, "immediate")
        self.rabbit = PrivateRabbit(self.folder, self.logs)
        self.rabbit.start()
        self.stack.callback(self.rabbit.stop)
        self.redis, redis_url = private_redis(self.folder, self.logs)
        self.stack.callback(self.redis.stop)
        self.database_url, tracker_url = self.pg.url("pequeno_productor"), self.pg.url("pp_tracker")
        self.broker = BrokerSettings(url=self.rabbit.url, partitions=16, prefix=f"pp.{self.prefix}")
        self.standin_port, self.actions_port = free_port(), free_port()
        self.action_token = os.urandom(16).hex()
        self.env = dict(
            gateway_env(self.database_url, self.broker),
            TRACKER_DATABASE_URL=tracker_url,
            REDIS_URL=redis_url,
            ACTION_SERVER_URL=f"http://127.0.0.1:{self.actions_port}/webhook",
            ACTION_SERVER_TOKEN=self.action_token,
            TWILIO_USE_STANDIN="1",
            TWILIO_ACCOUNT_SID="ACchaos",
            TWILIO_SMS_FROM="+15005550006",
            TWILIO_WHATSAPP_FROM="whatsapp:+14155238886",
            TWILIO_API_BASE=f"http://127.0.0.1:{self.standin_port}",
            TWILIO_STATUS_CALLBACKS="false",
            TWILIO_SEND_TIMEOUT="5",
            TWILIO_INBOUND_SPOOL=str(self.folder / "spool.jsonl"),
            SENDER_HEALTH_PORT=str(free_port()),
            SEED_DEMO="1",
            # private services of this run: PostgreSQL on trust, RabbitMQ's guest, Redis without a
            # password, on 127.0.0.1 only (bot/messaging/credentials.py would refuse them otherwise)
            ALLOW_LOCAL_CREDENTIALS="1",
            **self.settings,
        )
        self.cli("migrate", "--create", tracker_url)  # as scripts/production.sh, once before the rest
        self.cli("setup-db")  # the demo records (SEED_DEMO=1)
        self.client = StandinClient(f"http://127.0.0.1:{self.standin_port}")

    def start_workers(self, count: int) -> None:
        started = [self.new_worker() for _ in range(count)]
        for worker_id in started:
            self.wait_worker(worker_id)

    def start_gateways(self, count: int) -> None:
        """``count`` webhook gateways (behind one public URL, as behind a load balancer)."""
        for index in range(len(self.gateway_procs), len(self.gateway_procs) + count):
            port = free_port()
            env = dict(self.env, GATEWAY_SPOOL=str(self.logs / f"gateway{index}.spool"))
            proc = python(f"gateway{index}", ["bot.gateway", "--port", str(port)], env, self.logs).start()
            self.stack.callback(proc.stop)
            proc.wait_ready(f"http://127.0.0.1:{port}/readyz", 60)
            self.gateway_procs.append(proc)
            self.gateways.append(f"http://127.0.0.1:{port}")

    def start_sender(self) -> None:
        self.sender = python("sender", ["bot.messaging.send_loop"], self.env, self.logs).start()
        self.stack.callback(self.sender.stop)
        self.sender.wait_ready(f"http://127.0.0.1:{self.env['SENDER_HEALTH_PORT']}/healthz", 60)

    def cli(self, *args: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=self.env, capture_output=True, text=True
        )
        if done.returncode:
            raise RuntimeError(f"bot.cli {args[0]} failed:\n{(done.stdout + done.stderr)[-3000:]}")

    def start_standin(self) -> Proc:
        argv = ["bot.twilio_standin.server", "--port", str(self.standin_port), "--auth-token", AUTH_TOKEN]
        proc = python("standin", [*argv, "--account-sid", "ACchaos"], self.env, self.logs).start()
        self.stack.callback(proc.stop)
        proc.wait_ready(f"http://127.0.0.1:{self.standin_port}/_standin/health", 30)
        return proc

    def start_actions(self) -> Proc:
        argv = ["bot.action_server", "--host", "127.0.0.1", "--port", str(self.actions_port)]
        proc = python("actions", argv, self.env, self.logs).start()
        self.stack.callback(proc.stop)
        proc.wait_ready(f"http://127.0.0.1:{self.actions_port}/health", 120)
        return proc

    @property
    def model_link(self) -> Path:
        """What the workers load, as in production (MODEL=models/current.tar.gz): a link the
        model-rollout scenario points at a new model."""
        link = self.folder / "current.tar.gz"
        if not link.is_symlink():
            link.symlink_to(Path(self.model).resolve())
        return link

    def new_worker(self, worker_id: str | None = None, port: int | None = None) -> str:
        if worker_id is None:
            self.worker_count += 1
            worker_id = f"{self.prefix}-worker{self.worker_count}"
        port = port or free_port()
        env = dict(self.env, WORKER_ID=worker_id, WORKER_HTTP_PORT=str(port))
        proc = python(worker_id, ["bot.worker", "--model", str(self.model_link)], env, self.logs).start()
        self.worker_ports[worker_id] = port
        self.stack.callback(proc.stop)
        self.workers[worker_id] = proc
        return worker_id

    def restart_worker(self, worker_id: str) -> None:
        """As `systemctl restart pp-worker@N`: stopped (SIGTERM: it finishes its turn and hands
        its partitions over), then started again with the same id and port."""
        self.workers.pop(worker_id).stop()
        self.new_worker(worker_id, self.worker_ports[worker_id])

    def wait_worker(self, worker_id: str) -> None:
        self.workers[worker_id].wait_ready(f"http://127.0.0.1:{self.worker_ports[worker_id]}/readyz", 240)


def current_model() -> str:
    name = subprocess.run(
        [sys.executable, "-m", "bot.cli", "model-name"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    path = ROOT / "models" / f"{name}.tar.gz"
    if path.exists():
        return str(path)
    return str(max((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime))
