"""The stand-in server and the command-line phone, run as the README shows them."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request

from bot.config import PROJECT_ROOT
from bot.twilio_standin.client import StandinClient
from tests.channels.conftest import AUTH_TOKEN
from tests.support.standin import free_port


def run_phone(server, standin, *args: str) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.twilio_standin.phone",
            "--to",
            server.url,
            "--standin",
            standin.url,
            "--auth-token",
            AUTH_TOKEN,
            "--public-base-url",
            server.settings.public_base_url,
            "--wait",
            "10",
            *args,
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_phone_over_sms_shows_gsm7_text_and_parts(channels, standin):
    out = run_phone(
        channels, standin, "--phone", "443 100 0001", "--medium", "sms", "--say", "¿Cuándo me pagan? 🙏"
    )
    assert "> ¿Cuándo me pagan? 🙏" in out
    assert "── SMS · 1 parte" in out
    assert "Eco: ¿Cuando me pagan?" in out


def test_phone_over_whatsapp_sends_a_location_and_a_voice_note(channels, standin):
    out = run_phone(
        channels,
        standin,
        "--phone",
        "+524431000002",
        "--medium",
        "whatsapp",
        "--say",
        "/ubicacion 19.41,-102.05 Uruapan",
        "--say",
        "/audio",
    )
    assert "Capacitaciones cerca de 19.41,-102.05" in out
    assert "Archivo: audio/ogg" in out  # the echo assistant's answer to send_media
    location_turn, audio_turn = channels.assistant.received[-2:]
    assert location_turn.metadata["location"]["label"] == "Uruapan"
    assert audio_turn.metadata["media"][0]["content_type"] == "audio/ogg"


def test_standin_server_runs_as_a_module():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.twilio_standin.server", "--port", str(port), "--auth-token", "t"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        client = StandinClient(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{client.url}/_standin/health", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "stand-in did not start"
                time.sleep(0.2)
        assert client.control(fail_next=1)["fail_next"] == 1
        assert client.messages() == []
    finally:
        process.terminate()
        process.wait(10)
