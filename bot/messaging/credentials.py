"""The production processes' check of their services' credentials, run first at start by the
gateway (bot/gateway), the Rasa workers (bot/worker) and the senders (bot/messaging/send_loop.py).

PostgreSQL, RabbitMQ and Redis are reached with credentials of their own, from the environment:
a ``DATABASE_URL`` / ``TRACKER_DATABASE_URL`` with a password and a role other than ``postgres``,
a ``RABBITMQ_URL`` with a password and a user other than ``guest``, a ``REDIS_URL`` with a
password. A process given anything else refuses to start (exit code 2, the variable named on
stderr, never its password), unless ``ALLOW_LOCAL_CREDENTIALS=1``: the tests and ``make chaos``,
on services of their own that trust 127.0.0.1. ``make production`` makes private credentials on
this machine (scripts/provision_credentials.sh). A SQLite URL is a file, with no credentials to
check.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import TextIO
from urllib.parse import unquote, urlsplit

ALLOW = "ALLOW_LOCAL_CREDENTIALS"

_DATABASE_SCHEMES = ("postgresql", "postgres")
_BROKER_SCHEMES = ("amqp", "amqps")
_REDIS_SCHEMES = ("redis", "rediss")
_SHARED_USERS = {"postgresql": "postgres", "postgres": "postgres", "amqp": "guest", "amqps": "guest"}


def problem(name: str, url: str) -> str | None:
    """Why the URL of the variable ``name`` is not fit for production; None when it is. The
    answer names the variable, the scheme and the user, never the URL or the password."""
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.split("+")[0].lower()
        username = unquote(parts.username or "")
        password = unquote(parts.password or "")
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        return f"{name} is not a valid URL"
    if scheme == "sqlite":
        return None
    if scheme not in (*_DATABASE_SCHEMES, *_BROKER_SCHEMES, *_REDIS_SCHEMES):
        return f"{name} has an unexpected scheme {scheme or '(none)'!r}"
    shared = _SHARED_USERS.get(scheme)
    if shared is not None and username == shared:
        return f"{name} uses the shared user {shared!r}: give the service a user of its own"
    if not password:
        who = f"the user {username!r}" if username else "no user"
        return f"{name} has no password ({scheme}, {who})"
    if scheme not in _REDIS_SCHEMES and not username:
        return f"{name} has a password but no user"
    return None


def problems(urls: Mapping[str, str]) -> list[str]:
    """The problems of each variable's URL (the value the process will use), in order."""
    return [found for name, url in urls.items() if (found := problem(name, url)) is not None]


def fit_for_production(
    urls: Mapping[str, str], environ: Mapping[str, str] | None = None, stream: TextIO | None = None
) -> bool:
    """True when the process may start: every URL has credentials of its own, or
    ``ALLOW_LOCAL_CREDENTIALS=1``. Otherwise says why on ``stream`` (stderr); the caller exits 2."""
    env = os.environ if environ is None else environ
    if env.get(ALLOW, "").strip() == "1":
        return True
    found = problems(urls)
    out = sys.stderr if stream is None else stream
    for line in found:
        print(f"refusing to start: {line}.", file=out)
    if found:
        print(
            "Give each service a user with a password of its own in the environment "
            f"(deploy/production.env.example), or set {ALLOW}=1 for local services that trust "
            "this machine (tests, make chaos).",
            file=out,
        )
    return not found
