"""The production mode's processes, started for a test as `make production` starts them (real
subprocesses on 127.0.0.1, free ports), and stopped after it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from bot.messaging.broker import BrokerSettings
from bot.stack import free_port

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_BASE_URL = "https://bot.example.mx"  # what Twilio calls: one address for every gateway
AUTH_TOKEN = "production-test-token"


def wait_ready(url: str, process: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready in {seconds:.0f} s:\n{log.read_text(errors='replace')[-3000:]}")


def gateway_env(database_url: str, broker: BrokerSettings) -> dict[str, str]:
    return dict(
        os.environ,
        DATABASE_URL=database_url,
        RABBITMQ_URL=broker.url,
        INBOUND_PARTITIONS=str(broker.partitions),
        INBOUND_QUEUE_PREFIX=broker.prefix,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_PUBLIC_BASE_URL=PUBLIC_BASE_URL,
        # the tests' PostgreSQL trusts 127.0.0.1 and their RabbitMQ takes guest (bot/messaging/credentials.py)
        ALLOW_LOCAL_CREDENTIALS="1",
    )


@contextmanager
def gateways(count: int, database_url: str, broker: BrokerSettings, log_dir: Path):
    """``count`` gateways; yields their base URLs."""
    started, urls = [], []
    try:
        for index in range(count):
            port = free_port()
            log = log_dir / f"gateway{index}.log"
            process = subprocess.Popen(
                [sys.executable, "-m", "bot.gateway", "--port", str(port)],
                cwd=ROOT,
                env=dict(
                    gateway_env(database_url, broker), GATEWAY_SPOOL=str(log_dir / f"gateway{index}.spool")
                ),
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
            )
            started.append(process)
            wait_ready(f"http://127.0.0.1:{port}/readyz", process, log)
            urls.append(f"http://127.0.0.1:{port}")
        yield urls
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
