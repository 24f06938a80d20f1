"""The assistant's processes and how each one is started, in one place: `make run` and `make chat`
(development mode, through scripts/run.sh and scripts/chat.sh) and the test stack
(tests/conftest.py) build their command lines and environments here.

    python -m bot.stack run  --model models/<name>.tar.gz [--port 5005] [--actions-port 5055]
    python -m bot.stack chat --model models/<name>.tar.gz --phone +524431000001

Development mode binds every process to 127.0.0.1. The action server always needs its shared
secret: ACTION_SERVER_TOKEN from the environment, or a random one made for the run (never a fixed
value); Rasa sends it from endpoints.yml. Rasa's HTTP API is off unless RASA_ENABLE_API=1, and
then only with RASA_API_TOKEN (or RASA_JWT_SECRET). The local Twilio stand-in is used only when
no Twilio account is set in the environment nor in credentials.yml (or with TWILIO_USE_STANDIN=1,
never over a real account): a real account's settings are never overridden.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.config import PROJECT_ROOT, VAR_DIR
from bot.messaging import config as twilio_config

LOOPBACK = "127.0.0.1"
BIN = Path(sys.executable).parent
RASA = [str(BIN / "python"), "-m", "bot.rasa_fixes"]  # ``rasa``, with bot/rasa_fixes.py applied
ENDPOINTS = PROJECT_ROOT / "endpoints.yml"
CREDENTIALS = PROJECT_ROOT / "credentials.yml"  # development: REST, WhatsApp and SMS
PRODUCTION_CREDENTIALS = PROJECT_ROOT / "credentials.production.yml"  # WhatsApp and SMS only

ACTION_TOKEN = "ACTION_SERVER_TOKEN"
ACTION_TOKEN_HEADER = "X-Action-Token"
ENABLE_API = "RASA_ENABLE_API"
API_TOKEN = "RASA_API_TOKEN"
JWT_SECRET = "RASA_JWT_SECRET"

# What the channels use when `make run` starts the stand-in (no account anywhere).
STANDIN_TOKEN = "dev-token"
STANDIN_TWILIO = {
    "TWILIO_ACCOUNT_SID": "ACdev",
    "TWILIO_AUTH_TOKEN": STANDIN_TOKEN,
    "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
    "TWILIO_SMS_FROM": "+15005550006",
}


class StackError(RuntimeError):
    """A setting that would expose something: the stack refuses to start."""


@dataclass(frozen=True)
class Api:
    """Rasa's HTTP API: off, or on with a token or a JWT secret."""

    token: str = ""
    jwt_secret: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.token or self.jwt_secret)

    def arguments(self) -> list[str]:
        if self.token:
            return ["--enable-api", f"--auth-token={self.token}"]  # a token may start with "-"
        if self.jwt_secret:
            return ["--enable-api", "--jwt-secret", self.jwt_secret]
        return []


def _on(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def api_from(environ: Mapping[str, str]) -> Api:
    if not _on(environ.get(ENABLE_API, "")):
        return Api()
    api = Api(environ.get(API_TOKEN, "").strip(), environ.get(JWT_SECRET, "").strip())
    if not api.enabled:
        raise StackError(f"{ENABLE_API}=1 needs {API_TOKEN} (or {JWT_SECRET}): the API never runs open")
    return api


def action_token_from(environ: Mapping[str, str]) -> str:
    """The action server's shared secret: the environment's, or a random one for this run."""
    return environ.get(ACTION_TOKEN, "").strip() or secrets.token_urlsafe(32)


# -- command lines ------------------------------------------------------------------------------


def action_server_command(port: int, host: str = LOOPBACK) -> list[str]:
    return [str(BIN / "python"), "-m", "bot.action_server", "--host", host, "--port", str(port)]


def rasa_run_command(
    model: str | Path, port: int, endpoints: Path, credentials: Path, api: Api, host: str = LOOPBACK
) -> list[str]:
    if api.enabled and host != LOOPBACK:
        raise StackError("Rasa's HTTP API listens on 127.0.0.1 only")
    command = [*RASA, "run", "-m", str(model), "-i", host, "--port", str(port)]
    return command + ["--credentials", str(credentials), "--endpoints", str(endpoints), *api.arguments()]


def rasa_shell_command(model: str | Path, port: int, endpoints: Path, phone: str) -> list[str]:
    return [
        *RASA,
        "shell",
        "-m",
        str(model),
        "-i",
        LOOPBACK,
        "--port",
        str(port),
        "--endpoints",
        str(endpoints),
        "--conversation-id",
        phone,
        "--quiet",
    ]


def console_command(port: int) -> list[str]:
    return [str(BIN / "python"), "-m", "bot.console", "serve", "--host", LOOPBACK, "--port", str(port)]


def standin_command(port: int) -> list[str]:
    return [
        str(BIN / "python"),
        "-m",
        "bot.twilio_standin.server",
        "--host",
        LOOPBACK,
        "--port",
        str(port),
        "--auth-token",
        STANDIN_TOKEN,
    ]


def endpoints_for(actions_port: int, tracker_db: Path | None = None, template: Path = ENDPOINTS) -> str:
    """endpoints.yml with the action server on this port of 127.0.0.1 (and the tracker store in
    this SQLite file); everything else, the secret's header included, as the file has it."""
    data: dict[str, Any] = yaml.safe_load(template.read_text(encoding="utf-8"))
    data["action_endpoint"]["url"] = f"http://{LOOPBACK}:{actions_port}/webhook"
    if tracker_db is not None:
        data["tracker_store"] = {"type": "SQL", "dialect": "sqlite", "db": str(tracker_db)}
    header = f"# Made from {template.name} by bot/stack.py for one run; edit {template.name} instead.\n"
    return header + yaml.safe_dump(data, sort_keys=False)


def standin_env(rasa_port: int, standin_port: int) -> dict[str, str]:
    return dict(
        STANDIN_TWILIO,
        TWILIO_PUBLIC_BASE_URL=f"http://{LOOPBACK}:{rasa_port}",
        TWILIO_API_BASE=f"http://{LOOPBACK}:{standin_port}",
        **{twilio_config.USE_STANDIN: "1"},
    )


# -- running them (make run, make chat) ---------------------------------------------------------


class Processes:
    """Children of this process, stopped together (Ctrl-C, or any of them failing to start)."""

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.running: list[subprocess.Popen] = []

    def start(self, command: list[str], log: Path | None = None) -> subprocess.Popen:
        output = log.open("w") if log else None
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=self.env, stdout=output, stderr=output)
        self.running.append(process)
        return process

    def stop(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.terminate()
        for process in self.running:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_until_up(url: str, process: subprocess.Popen, log: Path, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
            raise StackError(f"did not start (log: {log}):\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(1)
    raise StackError(f"{url} did not answer in {seconds:.0f}s (log: {log})")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


CREATE_USER = ".venv/bin/python -m bot.console create-user --username coordinacion --role admin"


def _start_beside_rasa(processes: Processes, args: argparse.Namespace, standin: bool) -> None:
    """The action server, the staff console and, without a Twilio account, the stand-in."""
    processes.start(action_server_command(args.actions_port), VAR_DIR / "actions.log")
    print(f"Action server on {LOOPBACK}:{args.actions_port}, secret made for this run (log: var/actions.log)")
    processes.start(console_command(args.console_port), VAR_DIR / "console.log")
    print(f"Staff console on http://{LOOPBACK}:{args.console_port} (first account: {CREATE_USER})")
    if standin:
        processes.start(standin_command(args.standin_port), VAR_DIR / "standin.log")
        print(
            f"No Twilio account set: replies go to the local Twilio stand-in on {LOOPBACK}:{args.standin_port}."
        )
        print("  Talk as a phone: make phone PHONE=+524431000001 MEDIUM=sms   (or MEDIUM=whatsapp)")


def run(args: argparse.Namespace) -> int:
    """`make run`: action server, staff console, Rasa (REST, WhatsApp, SMS), and the stand-in
    when no Twilio account is set."""
    api = api_from(os.environ)
    standin = twilio_config.use_standin(development=True)
    env = dict(os.environ, **{ACTION_TOKEN: action_token_from(os.environ)})
    if standin:
        env.update(standin_env(args.port, args.standin_port))
    endpoints = _write(VAR_DIR / "endpoints.run.yml", endpoints_for(args.actions_port))
    processes = Processes(env)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        _start_beside_rasa(processes, args, standin)
        log = VAR_DIR / "rasa.log"
        rasa = processes.start(rasa_run_command(args.model, args.port, endpoints, CREDENTIALS, api), log)
        print("Loading the model (about a minute; log: var/rasa.log)...")
        wait_until_up(f"http://{LOOPBACK}:{args.port}/", rasa, log)
        routes = "REST /webhooks/rest/webhook, /webhooks/whatsapp/webhook, /webhooks/sms/webhook"
        api_note = "HTTP API on, with its token" if api.enabled else "HTTP API off"
        print(f"Assistant ready on http://{LOOPBACK}:{args.port} ({api_note}; {routes})")
        print("Chat in the terminal: make chat PHONE=+524431000001. Ctrl-C stops everything.")
        return rasa.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        processes.stop()


def chat(args: argparse.Namespace) -> int:
    """`make chat`: Rasa's shell as a farmer's phone, with an action server of its own (both on
    free ports of 127.0.0.1, so `make run` may be going)."""
    actions_port, shell_port = free_port(), free_port()
    env = dict(os.environ, **{ACTION_TOKEN: action_token_from(os.environ)})
    endpoints = _write(VAR_DIR / "endpoints.chat.yml", endpoints_for(actions_port))
    processes = Processes(env)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        processes.start(action_server_command(actions_port), VAR_DIR / "actions.chat.log")
        print(f"Chatting as {args.phone}. Loading the model takes about a minute; type /stop to leave.")
        shell = subprocess.Popen(
            rasa_shell_command(args.model, shell_port, endpoints, args.phone),
            cwd=PROJECT_ROOT,
            env=env,
            stderr=(VAR_DIR / "shell.log").open("w"),
        )
        processes.running.append(shell)  # the terminal is the shell's; stopped with the rest
        return shell.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        processes.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.stack", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="make run: every process, on 127.0.0.1")
    run_parser.add_argument("--model", required=True)
    run_parser.add_argument("--port", type=int, default=5005)
    run_parser.add_argument("--actions-port", type=int, default=5055)
    run_parser.add_argument("--console-port", type=int, default=int(os.environ.get("CONSOLE_PORT", "8000")))
    run_parser.add_argument("--standin-port", type=int, default=int(os.environ.get("STANDIN_PORT", "4010")))
    run_parser.set_defaults(run=run)
    chat_parser = commands.add_parser("chat", help="make chat: Rasa's shell as a farmer's phone")
    chat_parser.add_argument("--model", required=True)
    chat_parser.add_argument("--phone", required=True)
    chat_parser.set_defaults(run=chat)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except (StackError, twilio_config.StandinConflict) as error:
        print(f"Not started: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
