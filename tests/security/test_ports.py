"""What an outsider reaches on the ports the assistant opens.

The route table is the running server's own: the Sanic app is built the way `rasa run` builds it
(rasa.core.run.configure_app, with the same credentials and endpoints), every route in it is
requested on the running stack without credentials, and only the Twilio webhooks, their status
callbacks and the health checks may answer. The production configuration has no REST channel
and no API at all; development binds every process to 127.0.0.1.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from rasa.core.run import configure_app, create_http_input_channels
from sanic import Sanic

from bot import stack

# Routes that answer without a token: the health checks (Rasa's "/", each channel's own), the
# Twilio webhooks and status callbacks (which answer 403 without Twilio's signature), and Rasa's
# "/version" (its version number, nothing else; it exists only with the API on, on 127.0.0.1).
HEALTH = re.compile(r"^/(webhooks/(whatsapp|sms|rest))?$|^/version$")
TWILIO = re.compile(r"^/webhooks/(whatsapp|sms)/(webhook|status)$")
DEV_ONLY = {"/webhooks/rest/webhook"}  # the REST channel: development, 127.0.0.1 only
SAMPLE = {"conversation_id": "+524431000001"}


def route_table(credentials: Path, api: stack.Api) -> list[tuple[str, str]]:
    """(method, path) of every route `rasa run` would serve with these credentials."""
    previous, Sanic.test_mode = Sanic.test_mode, True  # the same app names, built again here
    try:
        app = configure_app(
            create_http_input_channels(None, str(credentials)),
            enable_api=api.enabled,
            auth_token=api.token or None,
        )
    finally:
        Sanic.test_mode = previous
    routes = []
    for route in app.router.routes:
        path = "/" + re.sub(r"<(\w+)(:[^>]*)?>", lambda m: SAMPLE.get(m.group(1), "x"), route.path)
        routes += [(method, path) for method in sorted(route.methods)]
    return sorted(set(routes))


def listening_addresses(port: int) -> set[str]:
    """The addresses a TCP port listens on, from the kernel's own table (IPv4 and IPv6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.rsplit(":", 1)
            if state != "0A" or int(port_hex, 16) != port:  # 0A: LISTEN
                continue
            if len(address) == 8:
                found.add(".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0)))
            else:
                found.add("::" if set(address) == {"0"} else address)
    return found


# -- the configurations, from their route tables ------------------------------------------------


def test_production_serves_only_the_twilio_webhooks_and_health(attack):
    routes = route_table(stack.PRODUCTION_CREDENTIALS, stack.Api())
    attack(
        "route table of `rasa run` with credentials.production.yml, no API",
        ", ".join(f"{m} {p}" for m, p in routes),
    )
    assert all(TWILIO.match(path) or (HEALTH.match(path) and method == "GET") for method, path in routes)
    assert not any(path.startswith("/webhooks/rest") for _, path in routes)
    assert {p for _, p in routes if TWILIO.match(p)} == {
        f"/webhooks/{m}/{r}" for m in ("whatsapp", "sms") for r in ("webhook", "status")
    }


def test_development_has_the_rest_channel_and_binds_everything_to_loopback(tmp_path):
    assert ("POST", "/webhooks/rest/webhook") in route_table(stack.CREDENTIALS, stack.Api())
    endpoints = tmp_path / "endpoints.yml"
    for command in (
        stack.rasa_run_command("m.tar.gz", 5005, endpoints, stack.CREDENTIALS, stack.Api()),
        stack.rasa_shell_command("m.tar.gz", 5006, endpoints, "+524431000001"),
        stack.action_server_command(5055),
        stack.console_command(8000),
        stack.standin_command(4010),
    ):
        hosts = [command[i + 1] for i, arg in enumerate(command) if arg in ("-i", "--host")]
        assert hosts == ["127.0.0.1"], command
    assert "--enable-api" not in stack.rasa_run_command("m", 5005, endpoints, stack.CREDENTIALS, stack.Api())


def test_the_api_runs_only_with_a_token_and_only_on_loopback(tmp_path):
    assert not stack.api_from({}).enabled
    assert not stack.api_from({"RASA_API_TOKEN": "t"}).enabled  # a token alone does not turn it on
    with pytest.raises(stack.StackError):
        stack.api_from({"RASA_ENABLE_API": "1"})
    api = stack.api_from({"RASA_ENABLE_API": "1", "RASA_API_TOKEN": "t0ken"})
    command = stack.rasa_run_command("m", 5005, tmp_path / "e.yml", stack.CREDENTIALS, api)
    assert command[-2:] == ["--enable-api", "--auth-token=t0ken"]  # "=": a token may start with "-"
    jwt = stack.api_from({"RASA_ENABLE_API": "1", "RASA_JWT_SECRET": "s"})
    assert jwt.arguments() == ["--enable-api", "--jwt-secret", "s"]
    with pytest.raises(stack.StackError):
        stack.rasa_run_command("m", 5005, tmp_path / "e.yml", stack.CREDENTIALS, api, host="0.0.0.0")


def test_the_action_server_secret_is_made_per_run_never_fixed():
    first, second = stack.action_token_from({}), stack.action_token_from({})
    assert first != second and len(first) >= 40
    assert stack.action_token_from({"ACTION_SERVER_TOKEN": " set "}) == "set"
    endpoints = stack.endpoints_for(6000)
    assert "X-Action-Token: ${ACTION_SERVER_TOKEN}" in endpoints  # Rasa expands it; never the value


# -- the running stack, as an outsider -----------------------------------------------------------


@pytest.mark.rasa
def test_every_route_of_the_running_server_without_credentials(rasa_stack, attack):
    api = stack.Api(token=rasa_stack["api_token"])
    routes = route_table(rasa_stack["credentials"], api)
    answered = []
    for method, path in routes:
        response = requests.request(method, rasa_stack["url"] + path, json={}, timeout=30)
        attack(f"{method} {path} without credentials", f"{response.status_code} {response.text[:60]!r}")
        if response.status_code not in (401, 403):
            answered.append((method, path, response.status_code))
    opened = {path for _, path, _ in answered}
    assert all(HEALTH.match(p) or p in DEV_ONLY for p in opened), answered
    assert len(routes) > 20  # the API's routes are in the table, and each refused
    tracker = requests.get(f"{rasa_stack['url']}/conversations/+524431000001/tracker", timeout=10)
    assert tracker.status_code == 401 and "F-3" not in tracker.text
    with_token = requests.get(
        f"{rasa_stack['url']}/conversations/+524431000001/tracker", params=rasa_stack["api"], timeout=10
    )
    assert with_token.status_code == 200  # the same route answers its token


@pytest.mark.rasa
def test_the_stack_listens_on_loopback_only(rasa_stack, attack):
    for name, port in (("rasa", rasa_stack["port"]), ("action server", rasa_stack["actions_port"])):
        addresses = listening_addresses(port)
        attack(f"which addresses {name} port {port} listens on (/proc/net/tcp)", ", ".join(sorted(addresses)))
        assert addresses == {"127.0.0.1"}


@pytest.mark.rasa
def test_the_stacks_action_server_refuses_calls_without_its_secret(rasa_stack, attack):
    url = f"{rasa_stack['actions_url']}/webhook"
    call = {
        "next_action": "action_ask_payment_status",
        "sender_id": "+524431000001",
        "tracker": {},
        "domain": {},
    }
    for label, headers in (("no secret", {}), ("a wrong secret", {"X-Action-Token": "x" * 32})):
        response = requests.post(url, json=call, headers=headers, timeout=10)
        attack(
            f"POST the stack's action server /webhook with {label}",
            f"{response.status_code} {response.text!r}",
        )
        assert response.status_code == 401 and response.text == ""
