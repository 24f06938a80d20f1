"""The stand-in server and the command-line phone, run as the README shows them."""

from __future__ import annotations

import base64
import http.server
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from bot.config import PROJECT_ROOT
from bot.twilio_standin.client import (
    ConnectionOverrides,
    StandinClient,
    post_like_twilio,
    webhook_params,
    without_fragment,
)
from tests.channels.conftest import ACCOUNT_SID, AUTH_TOKEN
from tests.support.polling import wait_until
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


# -- Twilio's connection overrides: the stand-in retries a webhook only when its URL asks ---------


class _Flaky(http.server.BaseHTTPRequestHandler):
    """Answers 503 to the first ``failures`` posts, then 200; counts them."""

    failures = 0
    posts = 0

    def do_POST(self):
        type(self).posts += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status = 503 if type(self).posts <= type(self).failures else 200
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def flaky():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Flaky.posts, _Flaky.failures = 0, 0
    yield server
    server.shutdown()


@pytest.mark.parametrize(
    ("fragment", "failures", "status", "posts"),
    [
        ("", 1, 503, 1),  # Twilio's default (rp=ct, rc=1): an answer is never retried
        ("#rp=5xx", 1, 200, 2),  # one retry by default
        ("#rp=all&rc=3", 3, 200, 4),
        ("#rp=5xx&rc=2", 5, 503, 3),  # retries run out
        ("#rp=4xx", 1, 503, 1),  # a 503 is not a 4xx
        ("#rc=0&rp=5xx", 1, 503, 1),
    ],
)
def test_a_503_is_retried_only_when_the_url_asks_for_it(flaky, fragment, failures, status, posts):
    _Flaky.failures = failures
    url = f"http://127.0.0.1:{flaky.server_address[1]}/webhooks/sms/webhook{fragment}"
    result = post_like_twilio(url, webhook_params("+524431000001", "sms", "hola"), AUTH_TOKEN)
    assert (result.status, result.attempts, _Flaky.posts) == (status, posts, posts)


def test_a_connection_that_fails_is_retried_once_by_default():
    url = f"http://127.0.0.1:{free_port()}/webhooks/sms/webhook"  # nothing listens there
    result = post_like_twilio(url, webhook_params("+524431000001", "sms", "hola"), AUTH_TOKEN)
    assert (result.status, result.attempts) == (0, 2)


def test_connection_overrides_are_read_as_twilio_documents_them():
    overrides = ConnectionOverrides.of(
        "https://bot.example.mx/webhooks/sms/webhook#ct=1000&rt=3000&rc=9&rp=5xx,ct"
    )
    assert overrides == ConnectionOverrides(1000, 3000, 15000, 5, frozenset({"5xx", "ct"}))
    assert ConnectionOverrides.of("https://bot.example.mx/x") == ConnectionOverrides()
    assert ConnectionOverrides.of("https://bot.example.mx/x#rp=nonsense").retry_policy == {"ct"}
    assert without_fragment("https://bot.example.mx/webhooks/sms/webhook#rp=all") == (
        "https://bot.example.mx/webhooks/sms/webhook"
    )


def test_the_standins_status_callbacks_follow_their_urls_overrides(flaky, standin):
    standin.reset()
    standin.control(statuses=["delivered"])
    _Flaky.failures = 1
    callback = f"http://127.0.0.1:{flaky.server_address[1]}/webhooks/sms/status"
    for fragment, attempts in (("", 1), ("#rp=5xx&rc=2", 2)):
        _Flaky.posts = 0
        form = {
            "To": "+524431000001",
            "From": "+15005550006",
            "Body": "hola",
            "StatusCallback": callback + fragment,
        }
        request = urllib.request.Request(
            f"{standin.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
            data=urllib.parse.urlencode(form).encode(),
            headers={
                "Authorization": "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
            },
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201
        done = wait_until(lambda n=len(standin.callbacks()): len(standin.callbacks()) > n or None, timeout=10)
        assert done
        last = standin.callbacks()[-1]
        assert last["attempts"] == attempts and last["url"] == callback + fragment
        assert last["http_status"] == (503 if attempts == 1 else 200)


# -- what notices need of the stand-in (issue 14): templates, the 24-hour window -----------------


def _send(standin, **form: str) -> tuple[int, dict]:
    data = urllib.parse.urlencode({"From": "whatsapp:+14155238886", **form}).encode()
    request = urllib.request.Request(
        f"{standin.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json", data=data
    )
    request.add_header(
        "Authorization", "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


@pytest.fixture
def strict_standin(standin):
    template = "Aviso del programa: su factura {{1}} {{2}}. Escriba PAGOS para ver el detalle."
    standin.control(reset=True, templates={"HX" + "a" * 32: template}, enforce_window=True)
    yield standin
    standin.control(reset=True)


def test_a_template_is_filled_and_an_unknown_one_refused_with_21655(strict_standin):
    to = "whatsapp:+5214431000777"
    variables = json.dumps({"1": "F-1", "2": "fue pagada el lun 1 dic"})
    status, _ = _send(strict_standin, To=to, ContentSid="HX" + "a" * 32, ContentVariables=variables)
    assert status == 201
    (sent,) = strict_standin.messages(to=to)
    assert (
        sent["body"]
        == "Aviso del programa: su factura F-1 fue pagada el lun 1 dic. Escriba PAGOS para ver el detalle."
    )
    status, answer = _send(strict_standin, To=to, ContentSid="HX" + "b" * 32, ContentVariables=variables)
    assert (status, answer["code"]) == (400, 21655)


def test_free_text_outside_the_window_fails_with_63016_and_inside_it_goes(strict_standin):
    quiet, recent = "whatsapp:+5214431000778", "whatsapp:+5214431000779"
    strict_standin.control(inbound={recent: time.time() - 3600, quiet: time.time() - 25 * 3600})
    assert _send(strict_standin, To=quiet, Body="Hola")[0] == 201  # taken, as Twilio does...
    assert _send(strict_standin, To=recent, Body="Hola")[0] == 201
    assert strict_standin.messages(to=quiet)[0]["error_code"] == "63016"  # ...then it fails
    assert "error_code" not in strict_standin.messages(to=recent)[0]
    assert _send(strict_standin, To="+524431000778", Body="Hola")[0] == 201  # SMS has no window
