"""The command line: create-user (password from CONSOLE_PASSWORD for scripts) and serve."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sqlalchemy import select

from bot.console.schema import ConsoleUser
from bot.db import session_scope

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path, **extra) -> dict[str, str]:
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{tmp_path / 'program.db'}",
        TRACKER_DATABASE_URL=f"sqlite:///{tmp_path / 'tracker.db'}",
        CONSOLE_SECRET_KEY_FILE=str(tmp_path / "secret"),
        PYTHONWARNINGS="ignore",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
    )
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.console", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_create_user_from_env_password(tmp_path):
    env = _env(tmp_path, CONSOLE_PASSWORD="una-clave-larga-1")
    done = _run(["create-user", "--username", "Ana.Lopez", "--role", "officer"], env)
    assert done.returncode == 0, done.stderr
    assert "Cuenta ana.lopez creada con rol officer" in done.stdout
    with session_scope(env["DATABASE_URL"]) as session:
        user = session.execute(select(ConsoleUser).where(ConsoleUser.username == "ana.lopez")).scalar_one()
        assert user.role == "officer" and user.password_hash.startswith(("scrypt:", "pbkdf2:"))
    again = _run(["create-user", "--username", "ana.lopez", "--role", "viewer"], env)
    assert again.returncode == 1 and "Ya existe" in again.stderr
    for password, refusal in (
        ("corta-de-11", "al menos 12"),
        ("Contraseña2026!", "de las más comunes"),
        ("beto-el-del-campo", "nombre de usuario"),
    ):
        refused = _run(
            ["create-user", "--username", "beto", "--role", "viewer"],
            _env(tmp_path, CONSOLE_PASSWORD=password),
        )
        assert refused.returncode == 1 and refusal in refused.stderr, (password, refused.stderr)


def test_create_user_without_terminal_or_password_refuses(tmp_path):
    env = _env(tmp_path)
    env.pop("CONSOLE_PASSWORD", None)
    done = _run(["create-user", "--username", "ana", "--role", "admin"], env)
    assert done.returncode == 2 and "CONSOLE_PASSWORD" in done.stderr


def test_serve_binds_localhost_and_redirects_to_login(tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.console", "serve", "--port", str(port)],
        cwd=ROOT,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/entrar", timeout=2) as response:
                    page = response.read().decode()
                break
            except OSError:
                if time.time() > deadline or process.poll() is not None:
                    raise AssertionError(
                        process.stdout.read() if process.poll() is not None else "timeout"
                    ) from None
                time.sleep(0.3)
        assert "Entrar a la consola" in page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/conversaciones", timeout=5) as response:
            assert response.url.endswith("/entrar?next=/conversaciones")
    finally:
        process.terminate()
        process.wait(timeout=20)
