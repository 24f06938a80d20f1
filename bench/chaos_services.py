"""What `make chaos` (bench/chaos.py) starts and stops: private PostgreSQL, RabbitMQ and Redis in a
temporary folder on spare ports (so restarting them disturbs nothing else on the machine), and the
production mode's processes on them, each in a process group of its own.

- PostgreSQL: ``initdb`` and ``pg_ctl`` from /usr/lib/postgresql/15/bin (as the postgres OS user
  when run as root: initdb refuses root), listening on 127.0.0.1, its socket in the folder.
- RabbitMQ: a second node of this machine's rabbitmq-server with its own RABBITMQ_NODENAME,
  node and distribution ports, Mnesia, logs, config, plugins (none) and Erlang cookie (HOME).
- Redis: ``redis-server --port X --save ''`` (Rasa's lock store on the workers).
- Processes: ``python -m`` the Twilio stand-in, the action server, the Rasa workers and the sender
  (the gateways through tests/production/processes.py, as the production tests start them).

By default (``make chaos``) each listens on 127.0.0.1 only and trusts it (PostgreSQL trust,
RabbitMQ's guest, Redis without a password). ``make multi-host`` (bench/multi_host.py) also gives
them other addresses to listen on and credentials of their own for those: PostgreSQL asks a
password (scram-sha-256) from the networks given (``create_role``), RabbitMQ takes a user of its
own on a vhost (``add_user``; guest keeps working from loopback only, as on any node), Redis
asks a password of every client (``requirepass``, in a config file, never on a command line).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from bot.stack import free_port
from tests.production.processes import ROOT, wait_ready
from tests.production.rabbit import rabbit_reachable

PG_BIN = Path(os.environ.get("CHAOS_PG_BIN", "/usr/lib/postgresql/15/bin"))
RABBIT_SERVER = Path(os.environ.get("CHAOS_RABBITMQ_SERVER", "/usr/lib/rabbitmq/bin/rabbitmq-server"))


class Proc:
    """A command in a session (process group) of its own, its output in ``<log_dir>/<name>.log``."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path):
        self.name, self.argv, self.env = name, argv, env
        self.log = log_dir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> Proc:
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, signum: int) -> None:
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signum)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        """SIGKILL to the whole group, at once: no clean-up of any kind."""
        self.signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(10)

    def stop(self, seconds: float = 20) -> None:
        if self.process is None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            pass
        self.signal(signal.SIGKILL)  # the group: whatever the leader left behind too
        self.process.wait(10)
        self.process = None

    def wait_ready(self, url: str, seconds: float = 120) -> None:
        assert self.process is not None
        wait_ready(url, self.process, self.log, seconds)


def python(name: str, module_args: list[str], env: dict[str, str], log_dir: Path) -> Proc:
    return Proc(name, [sys.executable, "-m", *module_args], env, log_dir)


class PrivatePostgres:
    """A PostgreSQL cluster of its own in ``folder/pg``: trust on 127.0.0.1 (nothing else can
    reach it), fsync off (it is thrown away).

    ``listen`` adds addresses to listen on besides 127.0.0.1; ``password_networks`` (CIDRs, such
    as the veth subnet of bench/multi_host.py) may only log in with a password (scram-sha-256):
    the postgres superuser has none, so it cannot log in from there. ``track_statements`` loads
    pg_stat_statements, for bench/pg_statements.py."""

    def __init__(
        self,
        folder: Path,
        listen: Sequence[str] = (),
        password_networks: Sequence[str] = (),
        track_statements: bool = False,
    ):
        self.dir = folder / "pg"
        self.track_statements = track_statements
        self.dir.mkdir()
        self.port = free_port()
        self.listen = ["127.0.0.1", *(address for address in listen if address != "127.0.0.1")]
        self.password_networks = list(password_networks)
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            self.as_postgres = ["runuser", "-u", "postgres", "--"]

    def url(
        self, database: str = "postgres", host: str = "127.0.0.1", user: str = "postgres", password: str = ""
    ) -> str:
        """The superuser over trust on 127.0.0.1 by default; a role with its password at ``host``."""
        secret = f":{quote(password, safe='')}" if password else ""
        return f"postgresql://{quote(user, safe='')}{secret}@{host}:{self.port}/{database}"

    def create_role(self, user: str, password: str, databases: Sequence[str]) -> None:
        """A login role with a password (not a superuser, no CREATEDB), owning ``databases``,
        created here by the superuser over 127.0.0.1 (what the database host's administrator
        does). The password goes to the server as a quoted literal, never on a command line."""
        import psycopg2
        from psycopg2 import sql

        connection = psycopg2.connect(self.url())
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                role = sql.Identifier(user)
                cursor.execute(
                    sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %s").format(
                        role
                    ),
                    (password,),
                )
                for database in databases:
                    cursor.execute(
                        sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database), role)
                    )
        finally:
            connection.close()

    def _pg_ctl(self, *args: str) -> None:
        argv = [*self.as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "data"), *args]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)

    def start(self) -> None:
        if not (self.dir / "data").exists():
            initdb = [str(PG_BIN / "initdb"), "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres"]
            subprocess.run(
                [*self.as_postgres, *initdb, "--no-sync", "-E", "UTF8"], check=True, stdout=subprocess.DEVNULL
            )
            if self.password_networks:  # after initdb's own lines (trust on local and 127.0.0.1)
                with (self.dir / "data" / "pg_hba.conf").open("a") as hba:
                    for network in self.password_networks:
                        hba.write(f"host all all {network} scram-sha-256\n")
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses={','.join(self.listen)} -c fsync=off "
            "-c synchronous_commit=off -c max_connections=300"
        )
        if self.track_statements:  # bench/pg_statements.py
            options += " -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all -c pg_stat_statements.track_utility=off"
        self._pg_ctl("-l", str(self.dir / "postgres.log"), "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        if (self.dir / "data" / "postmaster.pid").exists():
            self._pg_ctl("-m", mode, "-w", "-t", "60", "stop")


class PrivateRabbit:
    """A RabbitMQ node of its own (this machine's rabbitmq-server, another node name, ports and
    folders); guest works on it from 127.0.0.1, as on any node.

    ``listen`` adds addresses for its AMQP listener besides 127.0.0.1 (then given in its
    rabbitmq.conf rather than RABBITMQ_NODE_IP_ADDRESS, which takes one address); ``add_user``
    gives it a user of its own for those (guest is refused from anywhere but loopback)."""

    def __init__(self, folder: Path, log_dir: Path, listen: Sequence[str] = ()):
        self.dir = folder / "rabbitmq"
        self.dir.mkdir()
        self.port, self.dist_port = free_port(), free_port()
        self.listen = ["127.0.0.1", *(address for address in listen if address != "127.0.0.1")]
        (self.dir / "enabled_plugins").write_text("[].\n")  # no management listener on 15672
        listeners = "".join(
            f"listeners.tcp.{index} = {address}:{self.port}\n" for index, address in enumerate(self.listen, 1)
        )
        (self.dir / "rabbitmq.conf").write_text(listeners if len(self.listen) > 1 else "")
        (self.dir / "rabbitmq-env.conf").write_text("")  # not /etc/rabbitmq's NODENAME
        env = dict(
            os.environ,
            HOME=str(self.dir),  # its own Erlang cookie
            RABBITMQ_CONF_ENV_FILE=str(self.dir / "rabbitmq-env.conf"),
            RABBITMQ_CONFIG_FILE=str(self.dir / "rabbitmq.conf"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(self.dir / "enabled_plugins"),
            RABBITMQ_NODENAME=f"pp-chaos-{os.getpid()}@localhost",
            RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_MNESIA_BASE=str(self.dir / "mnesia"),
            RABBITMQ_LOG_BASE=str(self.dir / "log"),
            RABBITMQ_PID_FILE=str(self.dir / "rabbitmq.pid"),
            ERL_EPMD_ADDRESS="127.0.0.1",
        )
        if len(self.listen) > 1:  # the listeners are in rabbitmq.conf
            del env["RABBITMQ_NODE_IP_ADDRESS"], env["RABBITMQ_NODE_PORT"]
        self.env = env
        self.node = env["RABBITMQ_NODENAME"]
        self.proc = Proc("rabbitmq", [str(RABBIT_SERVER)], env, log_dir)

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def url_for(self, user: str, password: str, host: str, vhost: str = "/") -> str:
        return f"amqp://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{self.port}/{quote(vhost, safe='')}"

    def add_user(self, user: str, password: str, vhost: str) -> None:
        """A user with a password and every permission on ``vhost`` (created), through this
        node's rabbitmqctl (the password on its stdin, never on a command line)."""
        ctl = [str(RABBIT_SERVER.parent / "rabbitmqctl"), "-q", "-n", self.node]
        for args, given in (
            (["add_user", user], password + "\n"),
            (["add_vhost", vhost], None),
            (["set_permissions", "-p", vhost, user, ".*", ".*", ".*"], None),
        ):
            done = subprocess.run(
                [*ctl, *args], env=self.env, input=given, capture_output=True, text=True, timeout=120
            )
            if done.returncode:
                raise RuntimeError(f"rabbitmqctl {args[0]} failed: {(done.stdout + done.stderr)[-1000:]}")

    def start(self, seconds: float = 90) -> None:
        self.proc.start()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not self.proc.running:
                raise RuntimeError(f"private RabbitMQ exited:\n{self.proc.log.read_text()[-3000:]}")
            if asyncio.run(rabbit_reachable(self.url)):
                return
            time.sleep(0.5)
        raise RuntimeError(f"private RabbitMQ not reachable in {seconds:.0f} s")

    def stop(self) -> None:
        self.proc.stop(seconds=30)


def private_redis(
    folder: Path, log_dir: Path, listen: Sequence[str] = (), password: str = ""
) -> tuple[Proc, str]:
    """Redis on 127.0.0.1 (and the ``listen`` addresses); with ``password``, ``requirepass`` from
    a config file of mode 600. The URL names 127.0.0.1 (and the password)."""
    port = free_port()
    bind = ["127.0.0.1", *(address for address in listen if address != "127.0.0.1")]
    argv = ["redis-server", "--port", str(port), "--bind", *bind, "--save", "", "--appendonly", "no"]
    probe_env = dict(os.environ)
    if password:
        config = folder / "redis.conf"
        config.touch(mode=0o600)
        config.write_text(f"requirepass {password}\n")
        argv.insert(1, str(config))  # the config file comes first, then the options
        probe_env["REDISCLI_AUTH"] = password
    proc = Proc("redis", [*argv, "--dir", str(folder)], dict(os.environ), log_dir).start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        probe = subprocess.run(
            ["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True, env=probe_env
        )
        if probe.stdout.strip() == "PONG":
            secret = f":{quote(password, safe='')}@" if password else ""
            return proc, f"redis://{secret}127.0.0.1:{port}/0"
        time.sleep(0.2)
    raise RuntimeError("private Redis did not answer PING")
