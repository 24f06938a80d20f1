"""The staff console, attacked as an outsider (or a staff member beyond their role) would: every
route without signing in, with the wrong role and without a CSRF token; hostile redirects after
signing in; password guessing, per account and per address, also with a spoofed
X-Forwarded-For; weak passwords for new accounts; a viewer looking for folios, amounts or check
codes. Most attacks go through Flask's test client; some go over real HTTP to a console served by
``python -m bot.console serve`` on 127.0.0.1. Every attack is recorded with ``attack``.

The databases are the console tests' (tests/console/conftest.py: seeded program records and a
tracker written by Rasa, SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import requests
from flask import url_for
from sqlalchemy import select

from bot.console.schema import ConsoleLogin, ConsoleMessage, ConsoleReply, ConsoleUser
from bot.console.services.accounts import create_account
from bot.console.vocabulary import ROLES
from bot.db import session_scope
from bot.records import broadcasts
from bot.records.broadcasts import Audience
from bot.records.schema import Farmer, FarmerPhone, Training
from bot.timeutil import utcnow
from tests.console import conftest as console
from tests.console.conftest import FAMILY, PASSWORD, ROSA, csrf_from, login, token_of

ROOT = Path(__file__).resolve().parents[2]

# The console tests' fixtures: databases per module, the app, signed-in clients of each role.
console_env = console.console_env
app = console.app
client_for = console.client_for

PUBLIC = {"login.login", "static", "privacy_notice.notice"}  # the privacy notice is for farmers
FULL_FOLIO = re.compile(r"PP-\d{6}")
AMOUNT = re.compile(r"\$\s?\d")
REFUSED = "Usuario o contraseña incorrectos"


def _required(app, endpoint: str) -> str | None:
    """The permission a route's view requires (auth.requires), or None."""
    return getattr(app.view_functions[endpoint], "required_permission", None)


@pytest.fixture(scope="module")
def ids(console_env):
    """Real ids for the routes' arguments: Rosa's farmer id, a training, a user message, a
    broadcast whose text names an amount (a viewer sees it masked like any other)."""
    console.copy_tracker(console_env)
    with session_scope(console_env.url) as session:
        broadcast = broadcasts.compose(
            session, "Prueba de difusión $500", Audience(state="Michoacán"), "officer", utcnow()
        )
        return {
            "broadcast_id": broadcast.id,
            "sender_id": ROSA,
            "farmer_id": session.execute(
                select(FarmerPhone.farmer_id).where(FarmerPhone.phone == ROSA)
            ).scalar(),
            "training_id": session.execute(select(Training.id).order_by(Training.id).limit(1)).scalar(),
            "event_id": session.execute(
                select(ConsoleMessage.event_id).where(ConsoleMessage.kind == "user").limit(1)
            ).scalar(),
            "request_id": 1,
            "upload_id": 1,
            "user_id": session.execute(
                select(ConsoleUser.id).where(ConsoleUser.username == "viewer")
            ).scalar(),
            "filename": "console.css",
        }


def routes(app, ids) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) of every route of the app, every method but HEAD and OPTIONS. A new
    route with an argument not in ``ids`` fails here: give it a value."""
    found = []
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            url = url_for(rule.endpoint, **{name: ids[name] for name in rule.arguments})
            found += [(rule.endpoint, method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


def _where(response) -> str:
    return f"{response.status_code} → {response.headers.get('Location', '')}".rstrip(" →")


# --- without signing in -------------------------------------------------------------------------


def test_every_route_without_login(app, ids, attack):
    """Only the login page and static files answer; everything else goes to the login page (a
    POST without a token is refused first, 400); a POST with a valid anonymous token is sent to
    the login page too."""
    anonymous = app.test_client()
    token = token_of(anonymous, "/entrar")
    for endpoint, method, url in routes(app, ids):
        if method == "GET":
            response = anonymous.get(url)
            attack(f"GET {url} without signing in", _where(response))
            if endpoint in PUBLIC:
                assert response.status_code == 200, url
            else:
                assert (
                    response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/entrar"
                ), url
        elif endpoint not in PUBLIC:
            bare = anonymous.post(url, data={"body": "hola"})
            attack(f"POST {url} without signing in, no CSRF token", _where(bare))
            assert bare.status_code == 400, url
            tokened = anonymous.post(
                url, data={"csrf_token": token, "body": "hola", "phone": ROSA, "farmer_id": 1}
            )
            attack(f"POST {url} without signing in, with an anonymous CSRF token", _where(tokened))
            assert tokened.status_code == 302 and urlsplit(tokened.headers["Location"]).path == "/entrar", url


# --- beyond one's role --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "officer"])
def test_every_route_with_the_wrong_role(app, ids, client_for, role, attack):
    """Every route whose permission the role lacks answers 403, GET or POST (with a valid token,
    so the refusal is the role's); every POST route but signing in and out requires a permission."""
    client = client_for(role)
    token = token_of(client, "/conversaciones")
    for endpoint, method, url in routes(app, ids):
        permission = _required(app, endpoint)
        if method == "POST" and endpoint not in PUBLIC | {"login.logout"}:
            assert permission is not None, f"POST {url} does not require a permission"
        if permission is None or permission in ROLES[role].permissions:
            continue
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(
                url,
                data={"csrf_token": token, "body": "hola", "medium": "sms", "phone": ROSA, "farmer_id": 1},
            )
        attack(f"{method} {url} as {role} (needs {permission})", _where(response))
        assert response.status_code == 403, (method, url)


def test_viewer_pages_never_show_a_full_folio_or_an_amount(app, ids, client_for, attack):
    """Every page a viewer may open, and searches on them: no program folio but its last two
    digits, no payment amount."""
    client = client_for("viewer")
    pages = [url for endpoint, method, url in routes(app, ids) if method == "GET" and endpoint not in PUBLIC]
    pages = [u for u in pages if _required(app, app.url_map.bind("").match(u)[0]) in (None, "read")]
    pages += [
        "/conversaciones?q=Rosa",
        f"/conversaciones/{FAMILY}",
        "/productores?q=hernandez",
        "/facturas?q=Rosa",
    ]
    for url in pages:
        response = client.get(url, follow_redirects=True)
        html = response.get_data(as_text=True)
        folios, amounts = FULL_FOLIO.findall(html), AMOUNT.findall(html)
        attack(
            f"viewer reads {url} looking for folios and amounts",
            f"{response.status_code}, {len(folios)} full folios, {len(amounts)} amounts",
        )
        assert response.status_code == 200 and not folios and not amounts, (url, folios[:3], amounts[:3])
    officer = client_for("officer").get("/productores").get_data(as_text=True)
    assert FULL_FOLIO.search(officer)  # the check would see them


def test_viewer_searches_by_folio_digits_to_learn_a_check(console_env, client_for, attack):
    """A viewer who could find a farmer by the digits of their folio would learn the check code
    one search at a time: searches never match folios for viewers (officers' do)."""
    with session_scope(console_env.url) as session:
        folio = session.execute(
            select(Farmer.folio).join(FarmerPhone).where(FarmerPhone.phone == ROSA)
        ).scalar()
    viewer, officer = client_for("viewer"), client_for("officer")
    for text in (folio, folio[-4:], folio[-6:]):
        for url in (
            f"/productores?q={quote(text)}",
            f"/conversaciones?q={quote(text)}",
            f"/facturas?q={quote(text)}",
        ):
            html = viewer.get(url).get_data(as_text=True)
            found = "Rosa María Pérez Ruiz" in html
            attack(
                f"viewer searches {url.split('?')[0]} for folio digits",
                "Rosa found" if found else "nothing found",
            )
            assert not found, url
    assert "Rosa María Pérez Ruiz" in officer.get(f"/productores?q={quote(folio)}").get_data(as_text=True)


def test_viewer_post_reply_sends_nothing(console_env, client_for, attack):
    client = client_for("viewer")
    token = token_of(client, "/conversaciones")
    response = client.post(
        f"/conversaciones/{ROSA}/responder", data={"csrf_token": token, "body": "x-viewer", "medium": "sms"}
    )
    with session_scope(console_env.url) as session:
        stored = session.execute(select(ConsoleReply).where(ConsoleReply.body == "x-viewer")).scalars().all()
    attack(
        "viewer posts a reply to a farmer with a valid token",
        f"{response.status_code}, {len(stored)} replies stored",
    )
    assert response.status_code == 403 and not stored


# --- forms without their token ------------------------------------------------------------------


def test_every_post_without_its_csrf_token(app, ids, client_for, attack):
    """Signed in as an administrator: every POST without its token is refused (400) and changes
    nothing; the session is still good afterwards."""
    client = client_for("admin")
    for endpoint, method, url in routes(app, ids):
        if method != "POST" or endpoint == "login.login":
            continue
        response = client.post(
            url,
            data={
                "body": "hola",
                "medium": "sms",
                "reviewed": "y",
                "role": "admin",
                "active": "y",
                "phone": ROSA,
                "farmer_id": ids["farmer_id"],
                "username": "intrusa",
                "password": "x" * 20,
            },
        )
        attack(f"POST {url} as admin without a CSRF token", _where(response))
        assert response.status_code == 400, url
    assert client.get("/conversaciones").status_code == 200
    anonymous = app.test_client()
    response = anonymous.post("/entrar", data={"username": "officer", "password": PASSWORD})
    attack("POST /entrar with the right password but no CSRF token", _where(response))
    assert response.status_code == 400


# --- where signing in sends you -----------------------------------------------------------------

HOSTILE_NEXT = [
    "https://evil.example/",
    "http:evil.example",
    "https:/evil.example",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\t/evil.example",
    "/%09/evil.example",
    " //evil.example",
    "/%5Cevil.example",
    "/%2F%2Fevil.example",
    "/%2f/evil.example",
    "/%252F%252Fevil.example",
    "%2F%2Fevil.example",
    "javascript:alert(1)",
    "evil.example",
]


def _stays_here(location: str) -> bool:
    parts = urlsplit(location)
    return parts.netloc in ("", "localhost") and not parts.path.startswith("//") and "\\" not in location


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_a_hostile_next_never_leaves_the_console(app, target, attack):
    client = app.test_client()
    token = token_of(client, "/entrar")
    response = client.post(
        f"/entrar?next={quote(target, safe='')}",
        data={"username": "viewer", "password": PASSWORD, "csrf_token": token},
    )
    location = response.headers.get("Location", "")
    attack(f"sign in with next={target!r}", _where(response))
    assert response.status_code == 302 and _stays_here(location) and location.endswith("/conversaciones"), (
        location
    )


def test_a_local_next_is_kept(app):
    """What the login redirect is for: back to the page asked for, with its query."""
    client = app.test_client()
    asked = client.get("/productores?q=rosa%20maria")
    assert asked.status_code == 302
    token = token_of(client, "/entrar")
    response = client.post(
        asked.headers["Location"], data={"username": "viewer", "password": PASSWORD, "csrf_token": token}
    )
    assert response.headers["Location"] == "/productores?q=rosa%20maria"


# --- guessing passwords -------------------------------------------------------------------------


def _attempts(url: str, username: str) -> list[str]:
    with session_scope(url) as session:
        return list(
            session.execute(
                select(ConsoleLogin.outcome)
                .where(ConsoleLogin.username == username)
                .order_by(ConsoleLogin.id)
            ).scalars()
        )


def _age_attempts(url: str, minutes: int, **where) -> None:
    """As if the attempts had happened ``minutes`` earlier (the window passes)."""
    with session_scope(url) as session:
        conditions = [getattr(ConsoleLogin, k) == v for k, v in where.items()]
        for row in session.execute(select(ConsoleLogin).where(*conditions)).scalars():
            row.at = row.at - timedelta(minutes=minutes)


def _account(url: str, username: str, role: str = "officer") -> None:
    with session_scope(url) as session:
        create_account(session, username, role, PASSWORD)


def test_guessing_one_accounts_password(console_env, app, client_for, attack):
    """30 wrong passwords for one account, then the right one: after 5 failures every attempt is
    refused (429, Retry-After, the same message and when to try again) without the password being
    checked, the right one too; from another address as well. Every attempt is audited. When the
    window has passed, the right password works and clears the count."""
    _account(console_env.url, "victima")
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.10"
    statuses = [login(attacker, "victima", f"adivinanza-{i:02d}").status_code for i in range(30)]
    attack(
        "30 wrong passwords for one account from one address",
        f"statuses {statuses[:6]}… 429 ×{statuses.count(429)}",
    )
    assert statuses[:5] == [200] * 5 and statuses[5:] == [429] * 25
    refused = login(attacker, "victima", PASSWORD)
    page = refused.get_data(as_text=True)
    attack(
        "then the right password, while throttled",
        f"{refused.status_code}, Retry-After {refused.headers.get('Retry-After')}",
    )
    assert refused.status_code == 429 and REFUSED in page and "vuelva a intentarlo después de las" in page
    assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    moved = login(elsewhere, "victima", PASSWORD)
    attack("the right password for the throttled account from another address", f"{moved.status_code}")
    assert moved.status_code == 429
    assert _attempts(console_env.url, "victima") == ["failure"] * 5 + ["throttled"] * 27

    _age_attempts(console_env.url, 16, username="victima")
    later = login(elsewhere, "victima", PASSWORD)
    attack("the right password once the 15-minute window passed", _where(later))
    assert later.status_code == 302
    assert _attempts(console_env.url, "victima")[-1] == "success"
    assert login(app.test_client(), "victima", "otra-adivinanza").status_code == 200  # the count starts over

    log = client_for("admin").get("/auditoria/entradas").get_data(as_text=True)
    assert "victima" in log and "rechazado: demasiados intentos" in log and "entró" in log
    assert "203.0.113.10" in log and "198.51.100.20" in log


def test_guessing_many_accounts_from_one_address(console_env, app, attack):
    """20 failures from one address (each for another username, some that exist, some not) throttle
    the address: a 21st attempt is refused, even with a right password; other addresses are not."""
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.20"
    names = ["viewer", "officer", "admin"] + [f"nadie{i}" for i in range(17)]
    statuses = [login(attacker, name, "contraseña-equivocada").status_code for name in names]
    attack("20 wrong passwords from one address, 20 usernames", f"statuses 200 ×{statuses.count(200)}")
    assert statuses == [200] * 20
    refused = login(attacker, "admin", PASSWORD)
    attack("then admin's right password from that address", _where(refused))
    assert refused.status_code == 429
    assert login(app.test_client(), "admin", PASSWORD).status_code == 302  # from 127.0.0.1
    _age_attempts(console_env.url, 16, address="203.0.113.20")


def test_spoofed_forwarded_for_does_not_dodge_the_address_throttle(console_env, app, attack):
    """No proxy is trusted by default: X-Forwarded-For is ignored, so a guesser cannot name a new
    address for each attempt."""
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.30"
    statuses = []
    for i in range(21):
        attacker.environ_base["HTTP_X_FORWARDED_FOR"] = f"198.51.100.{i + 1}"
        statuses.append(login(attacker, f"fantasma{i}", "contraseña-equivocada").status_code)
    attack("21 wrong passwords, each with another X-Forwarded-For", f"last status {statuses[-1]}")
    assert statuses[:20] == [200] * 20 and statuses[20] == 429
    with session_scope(console_env.url) as session:
        addresses = set(
            session.execute(
                select(ConsoleLogin.address).where(ConsoleLogin.username.like("fantasma%"))
            ).scalars()
        )
    assert addresses == {"203.0.113.30"}
    _age_attempts(console_env.url, 16, address="203.0.113.30")


# --- weak passwords -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password, refusal",
    [
        ("corta-123", "al menos 12"),
        ("123456789012", "de las más comunes"),
        ("Contraseña123", "de las más comunes"),
        ("password1234", "de las más comunes"),
        ("mexico123456", "de las más comunes"),
        ("Aguacate2026!", "de las más comunes"),
        ("maria.campos-del-rancho", "nombre de usuario"),
    ],
)
def test_weak_passwords_for_a_new_account(console_env, client_for, password, refusal, attack):
    client = client_for("admin")
    token = token_of(client, "/cuentas")
    response = client.post(
        "/cuentas",
        data={"csrf_token": token, "username": "maria.campos", "role": "viewer", "password": password},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    attack(
        f"admin creates an account with password {password!r}", "refused" if refusal in html else "accepted"
    )
    assert refusal in html
    with session_scope(console_env.url) as session:
        assert (
            session.execute(select(ConsoleUser).where(ConsoleUser.username == "maria.campos")).first() is None
        )


def test_weak_password_when_changing_one(app, client_for, ids, attack):
    client = client_for("admin")
    token = token_of(client, "/cuentas")
    user_id = ids["user_id"]
    response = client.post(
        f"/cuentas/{user_id}",
        data={
            "csrf_token": token,
            f"u{user_id}-csrf_token": token,
            f"u{user_id}-role": "viewer",
            f"u{user_id}-active": "y",
            f"u{user_id}-password": "qwerty123456",
        },
        follow_redirects=True,
    )
    attack(
        "admin changes a password to 'qwerty123456'",
        "refused" if "de las más comunes" in response.get_data(as_text=True) else "accepted",
    )
    assert "de las más comunes" in response.get_data(as_text=True)
    assert login(app.test_client(), "viewer", PASSWORD).status_code == 302


# --- over real HTTP -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(console_env, tmp_path_factory):
    """``python -m bot.console serve`` on a free port of 127.0.0.1, on the module's databases."""
    port = _free_port()
    log = tmp_path_factory.mktemp("served") / "console.log"
    env = dict(
        os.environ,
        DATABASE_URL=console_env.url,
        TRACKER_DATABASE_URL=console_env.tracker_url,
        CONSOLE_SECRET_KEY="attack-suite-secret",
        CONSOLE_TRUSTED_PROXIES="0",
        CONSOLE_HTTPS="0",
        PYTHONWARNINGS="ignore",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
    )
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bot.console",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-migrate",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                if requests.get(f"{base}/entrar", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"the console did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def _http_login(
    session: requests.Session, base: str, username: str, password: str, next_: str = ""
) -> requests.Response:
    token = csrf_from(session.get(f"{base}/entrar").text)
    query = f"?next={quote(next_, safe='')}" if next_ else ""
    return session.post(
        f"{base}/entrar{query}",
        data={"username": username, "password": password, "csrf_token": token},
        allow_redirects=False,
    )


def test_over_http_nothing_without_login(served, ids, attack):
    for path in (
        "/conversaciones",
        f"/conversaciones/{ROSA}",
        f"/productores/{ids['farmer_id']}",
        "/facturas",
        "/bloqueos",
        "/cuentas",
        "/auditoria/entradas",
        "/correcciones/nlu_correcciones.yml",
    ):
        response = requests.get(f"{served}{path}", allow_redirects=False, timeout=10)
        attack(f"HTTP GET {path} without signing in", _where(response))
        assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/entrar"
    for path in ("/bloqueos/desbloquear", f"/productores/{ids['farmer_id']}/nip", "/cuentas"):
        response = requests.post(
            f"{served}{path}", data={"phone": ROSA, "farmer_id": 1}, allow_redirects=False, timeout=10
        )
        attack(f"HTTP POST {path} without signing in or a token", _where(response))
        assert response.status_code == 400


def test_over_http_a_signed_in_viewer(served, attack):
    session = requests.Session()
    assert _http_login(session, served, "viewer", PASSWORD).status_code == 302
    for path in ("/cuentas", "/importar", "/correcciones/nlu_correcciones.yml"):
        response = session.get(f"{served}{path}", allow_redirects=False, timeout=10)
        attack(f"HTTP GET {path} as viewer", _where(response))
        assert response.status_code == 403
    token = csrf_from(session.get(f"{served}/bloqueos").text)
    response = session.post(
        f"{served}/bloqueos/desbloquear",
        data={"csrf_token": token, "phone": ROSA, "farmer_id": 1},
        allow_redirects=False,
    )
    attack("HTTP POST /bloqueos/desbloquear as viewer, with a token", _where(response))
    assert response.status_code == 403
    response = session.post(f"{served}/salir", data={}, allow_redirects=False)
    attack("HTTP POST /salir without its token", _where(response))
    assert response.status_code == 400


@pytest.mark.parametrize(
    "target", ["//evil.example/", "/\\evil.example", "https://evil.example", "/%2F%2Fevil.example"]
)
def test_over_http_a_hostile_next(served, target, attack):
    response = _http_login(requests.Session(), served, "viewer", PASSWORD, target)
    attack(f"HTTP sign in with next={target!r}", _where(response))
    assert response.status_code == 302 and _stays_here(response.headers["Location"])
    assert response.headers["Location"].endswith("/conversaciones")


def test_over_http_guessing_a_password(console_env, served, attack):
    """The served console throttles in the database too: 8 wrong passwords, the right one refused,
    all of them audited; X-Forwarded-For is not believed (no proxy trusted)."""
    _account(console_env.url, "victima.http")
    session = requests.Session()
    session.headers["X-Forwarded-For"] = "198.51.100.77"
    statuses = [_http_login(session, served, "victima.http", f"adivinanza-{i}").status_code for i in range(8)]
    right = _http_login(session, served, "victima.http", PASSWORD)
    attack(
        "HTTP: 8 wrong passwords then the right one",
        f"{statuses} then {right.status_code}, Retry-After {right.headers.get('Retry-After')}",
    )
    assert statuses == [200] * 5 + [429] * 3 and right.status_code == 429 and "Retry-After" in right.headers
    assert _attempts(console_env.url, "victima.http") == ["failure"] * 5 + ["throttled"] * 4
    with session_scope(console_env.url) as db:
        addresses = set(
            db.execute(select(ConsoleLogin.address).where(ConsoleLogin.username == "victima.http")).scalars()
        )
    assert addresses == {"127.0.0.1"}
    _age_attempts(console_env.url, 16, address="127.0.0.1")
