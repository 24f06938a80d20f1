"""What one host of `make multi-host` reaches, run inside its network namespace by
bench/multi_host.py:

    ip netns exec pphost-gw .venv/bin/python bench/multi_host_probe.py < spec.json

The spec (JSON on stdin, so that no password is ever on a command line) names what to try:

    {"tcp": ["10.231.0.1:5432", ...],                 a TCP connection: open, refused, no route
     "postgres": {"label": "postgresql://...", ...},  log in and ask the server who we are
     "rabbitmq": {"label": "amqp://...", ...},        open an AMQP connection
     "redis": {"label": "redis://...", ...}}          PING

It prints one JSON object with the same keys and, for each item, what happened in a few words:
``ok ...`` or ``refused: <the service's reason>``.
"""

from __future__ import annotations

import asyncio
import errno
import json
import socket
import sys


def tcp(target: str) -> str:
    host, _, port = target.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=3):
            return "open"
    except ConnectionRefusedError:
        return "refused"
    except TimeoutError:
        return "timeout"
    except OSError as error:
        if error.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "no route"
        return f"error: {error.strerror or error}"


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:160]


def postgres(url: str) -> str:
    import psycopg2

    try:
        connection = psycopg2.connect(url, connect_timeout=5)
    except psycopg2.Error as error:
        return f"refused: {_first_line(error)}"
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user, inet_client_addr()::text, inet_server_addr()::text")
            user, client, server = cursor.fetchone()
        return f"ok as {user}, the server sees {client.split('/')[0]} -> {server.split('/')[0]}"
    finally:
        connection.close()


def rabbitmq(url: str) -> str:
    import aio_pika

    async def attempt() -> str:
        try:
            connection = await aio_pika.connect(url, timeout=5)
        except Exception as error:
            return f"refused: {type(error).__name__}: {_first_line(error)}"
        await connection.close()
        return "ok"

    return asyncio.run(attempt())


def redis_ping(url: str) -> str:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        client.ping()
        address = client.client_info().get("addr", "?")
        return f"ok, the server sees {address.rsplit(':', 1)[0]}"
    except redis.RedisError as error:
        return f"refused: {type(error).__name__}: {_first_line(error)}"
    finally:
        client.close()


def main() -> int:
    spec = json.load(sys.stdin)
    checks = {"postgres": postgres, "rabbitmq": rabbitmq, "redis": redis_ping}
    result: dict[str, dict[str, str]] = {"tcp": {target: tcp(target) for target in spec.get("tcp", [])}}
    for kind, check in checks.items():
        result[kind] = {label: check(url) for label, url in spec.get(kind, {}).items()}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
