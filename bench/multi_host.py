"""`make multi-host`: the production mode's gateway and Rasa worker as two hosts of their own.

    .venv/bin/python bench/multi_host.py [--farmers 8] [--messages 4] [--model models/<name>.tar.gz]

Needs root (``ip netns``). It shows that nothing between a gateway and a worker depends on
loopback or on memory they share: each runs in a network namespace of its own, a separate host
on this machine, and reaches PostgreSQL, RabbitMQ and Redis over a veth pair, with credentials of
its own, as it would reach them on another machine.

Layout (a star: each host has its own link to the services host, and no route to the other):

    services host (this machine's root namespace)
      PostgreSQL, RabbitMQ, Redis (bench/chaos_services.py, private, in a temporary folder),
      listening on 10.231.0.1 and 10.231.0.5 (and 127.0.0.1 for their own tooling)
      the Twilio stand-in ("Twilio"), on 10.231.0.1 only
      the action server, on 10.231.0.5 only: the worker's link, so only the worker's host
      reaches it (README: "reachable only from the workers"); stateless, next to the records
      | veth pphost-gw0 10.231.0.1/30           | veth pphost-wk0 10.231.0.5/30
    pphost-gw 10.231.0.2 (pphost-gw1)          pphost-wk 10.231.0.6 (pphost-wk1)
      the webhook gateway, the sender            a Rasa worker (all 16 partitions)
      (and the one-off migration and seeding)

Credentials: PostgreSQL asks a password (scram-sha-256) from 10.231.0.0/29 and the processes log
in as the role ``pp_mh`` (no superuser, no CREATEDB), which owns the two databases; RabbitMQ: the
user ``pp_mh`` on the vhost ``pp_mh`` (guest is refused from anywhere but loopback, as on any
node); Redis: ``requirepass``. Passwords are random for the run. Every process runs without
``ALLOW_LOCAL_CREDENTIALS``, so the gateway, the worker and the sender check them
(bot/messaging/credentials.py) and would refuse to start otherwise. Each process in a host also
gets an IPC namespace and a /dev/shm of its own, and each host a folder of its own: no shared
memory, no shared writable file.

Checks (one line each): the layout; what each host reaches (its own loopback has no service; the
other host and the action server from the gateway's host: no route); the services' answers over
the veth (the superuser, guest and Redis without a password refused; the run's credentials
accepted, the servers seeing the host's veth address); every process's settings name only veth
addresses; after the traffic, every TCP connection in each host goes to the services host and
none to loopback, the services' connections come from the hosts' addresses, and the hosts'
loopback interfaces carried no packet while the processes ran. Then ``--farmers`` farmers (half
SMS, half WhatsApp) each send ``--messages`` signed Twilio webhooks from the root namespace to the
gateway's veth address, and what the stand-in received is counted as bench/chaos_count.py counts
it. Last line: ``multi-host: M messages, answered A, lost L, duplicates D, out of order O``.

It restores everything, in a ``finally`` and on SIGINT/SIGTERM: the processes stopped, the veth
pairs and namespaces deleted (and /run/netns as it was: ``ip netns add`` makes it a mount point),
the temporary folder removed; it changes no sysctl and no firewall rule (nothing is routed
between the hosts). It then compares ``ip netns list``, the links and /run/netns with what they
were before. Exit code 0 only when every check passed and every message was answered once, in
order.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.chaos import BODIES  # noqa: E402
from bench.chaos_count import Ledger, Tally, out_of_order, received_replies, tally, unanswered  # noqa: E402
from bench.chaos_services import PrivatePostgres, PrivateRabbit, Proc, private_redis  # noqa: E402
from bench.production_stack import current_model  # noqa: E402
from bot.stack import free_port  # noqa: E402
from bot.twilio_standin.client import StandinClient  # noqa: E402
from tests.production.processes import AUTH_TOKEN, PUBLIC_BASE_URL  # noqa: E402

NETWORK = ipaddress.ip_network("10.231.0.0/29")  # both links; PostgreSQL asks a password from it
USER = VHOST = "pp_mh"
DATABASE, TRACKER_DATABASE = "pequeno_productor", "pp_tracker"
PREFIX = "pp.multihost"
ACCOUNT_SID = "ACchaos"  # what bench/chaos_count.py puts in the webhooks
WAIT_FOR_REPLIES = 120.0  # seconds after the last message
SETTLE = 3.0  # then this long for anything sent twice
LOOPBACK_WORDS = ("127.0.0.1", "localhost", "[::1]", "0.0.0.0")
# what a process's environment must not inherit from this shell: the services are given anew
SERVICE_VARIABLES = (
    "DATABASE_URL",
    "TRACKER_DATABASE_URL",
    "RABBITMQ_URL",
    "REDIS_URL",
    "ACTION_SERVER_URL",
    "TWILIO_API_BASE",
    "ALLOW_LOCAL_CREDENTIALS",
)


@dataclass(frozen=True)
class Host:
    name: str  # the network namespace
    root_link: str  # the veth end in the root namespace (the services host)
    link: str  # the veth end in the namespace
    services: str  # the services host's address on this link
    address: str  # the host's own address


GW = Host("pphost-gw", "pphost-gw0", "pphost-gw1", "10.231.0.1", "10.231.0.2")
WK = Host("pphost-wk", "pphost-wk0", "pphost-wk1", "10.231.0.5", "10.231.0.6")
HOSTS = (GW, WK)


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def ip(*args: str, check: bool = True) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and done.returncode:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def netns_names() -> list[str]:
    return sorted(line.split()[0] for line in ip("netns", "list").splitlines() if line.strip())


def link_names() -> list[str]:
    return sorted(link["ifname"] for link in json.loads(ip("-j", "link", "show") or "[]"))


def is_mount_point(path: str) -> bool:
    return subprocess.run(["mountpoint", "-q", path]).returncode == 0


@dataclass(frozen=True)
class NetState:
    netns: tuple[str, ...]
    links: tuple[str, ...]
    run_netns: str  # absent, a folder, or a mount point

    @classmethod
    def now(cls) -> NetState:
        path = Path("/run/netns")
        where = "absent" if not path.exists() else "mount point" if is_mount_point(str(path)) else "folder"
        return cls(tuple(netns_names()), tuple(link_names()), where)


class Network:
    """The two namespaces and their veth pairs; ``down`` undoes whatever ``up`` got to."""

    def __init__(self) -> None:
        self.before: NetState | None = None  # set by up(): down() acts only after it

    def clear_stale(self) -> list[str]:
        """Deletes this bench's namespaces and links left by an aborted run (never one that still
        holds processes: those are named and the run stops)."""
        removed = []
        for host in HOSTS:
            if host.name in netns_names():
                pids = ip("netns", "pids", host.name).split()
                if pids:
                    raise RuntimeError(
                        f"namespace {host.name} is left from an earlier run and still holds processes "
                        f"{', '.join(pids)}: stop them, then `ip netns del {host.name}`"
                    )
                ip("netns", "del", host.name)
                removed.append(host.name)
            if host.root_link in link_names():
                ip("link", "del", host.root_link)
                removed.append(host.root_link)
        self._wait_links_gone()
        return removed

    def check_free(self) -> None:
        """Nothing on this machine uses the bench's addresses already."""
        for line in ip("-4", "-o", "addr", "show").splitlines() + ip("-4", "route", "show").splitlines():
            for word in line.split():
                try:
                    taken = ipaddress.ip_network(word, strict=False)
                except ValueError:
                    continue
                if taken.overlaps(NETWORK):
                    raise RuntimeError(f"{NETWORK} is in use on this machine already: {line.strip()}")

    def up(self) -> None:
        self.before = NetState.now()
        for host in HOSTS:
            ip("netns", "add", host.name)
            ip("link", "add", host.root_link, "type", "veth", "peer", "name", host.link, "netns", host.name)
            ip("addr", "add", f"{host.services}/30", "dev", host.root_link)
            ip("link", "set", host.root_link, "up")
            ip("-n", host.name, "addr", "add", f"{host.address}/30", "dev", host.link)
            ip("-n", host.name, "link", "set", host.link, "up")
            ip("-n", host.name, "link", "set", "lo", "up")

    def down(self) -> None:
        if self.before is None:
            return
        for host in HOSTS:
            if host.root_link in link_names():
                ip("link", "del", host.root_link, check=False)  # its peer in the namespace goes with it
            if host.name in netns_names():
                pids = ip("netns", "pids", host.name, check=False).split()
                if pids:
                    log(f"namespace {host.name} still holds processes {', '.join(pids)}")
                ip("netns", "del", host.name, check=False)
        self._wait_links_gone()
        run_netns = Path("/run/netns")
        leftover = run_netns.exists() and any(run_netns.iterdir())
        if self.before.run_netns != "mount point" and is_mount_point(str(run_netns)) and not leftover:
            subprocess.run(["umount", str(run_netns)], check=False)
        if self.before.run_netns == "absent" and run_netns.exists() and not leftover:
            try:
                run_netns.rmdir()
            except OSError:
                pass

    def _wait_links_gone(self) -> None:
        # a deleted namespace's links go away a moment later (the kernel cleans up asynchronously)
        deadline = time.monotonic() + 15
        ours = {host.root_link for host in HOSTS} | {host.link for host in HOSTS}
        while time.monotonic() < deadline and ours & set(link_names()):
            time.sleep(0.2)

    @staticmethod
    def loopback_packets(host: Host) -> int:
        stats = json.loads(ip("-n", host.name, "-j", "-s", "link", "show", "dev", "lo"))[0]["stats64"]
        return int(stats["rx"]["packets"]) + int(stats["tx"]["packets"])

    @staticmethod
    def link_packets(host: Host) -> int:
        stats = json.loads(ip("-n", host.name, "-j", "-s", "link", "show", "dev", host.link))[0]["stats64"]
        return int(stats["rx"]["packets"]) + int(stats["tx"]["packets"])


def in_host(host: Host, argv: list[str]) -> list[str]:
    """``argv`` run in the host's network namespace, with an IPC namespace and a /dev/shm of its
    own (mounted in the mount namespace ``ip netns exec`` makes, so invisible outside it)."""
    private_shm = 'mount -t tmpfs -o size=64m,mode=1777 pphost-shm /dev/shm && exec "$@"'
    return ["ip", "netns", "exec", host.name, "unshare", "--ipc", "--", "sh", "-c", private_shm, "sh", *argv]


class Checks:
    def __init__(self) -> None:
        self.failed: list[str] = []

    def report(self, name: str, ok: bool, detail: str) -> None:
        print(f"check {name}: {'ok' if ok else 'FAILED'}; {detail}", flush=True)
        if not ok:
            self.failed.append(name)


def mentions_loopback(value: str) -> bool:
    return any(word in value for word in LOOPBACK_WORDS)


class MultiHost:
    def __init__(self, folder: Path, model: str, stack: ExitStack, checks: Checks):
        self.folder, self.model, self.stack, self.checks = folder, model, stack, checks
        self.logs = folder / "logs"
        self.logs.mkdir()
        self.envs: dict[str, dict[str, str]] = {}  # what each process was given, by name
        self.passwords = {kind: secrets.token_hex(16) for kind in ("postgres", "rabbitmq", "redis")}
        self.argvs: dict[str, list[str]] = {}  # each process's command line, by name
        self.dropped: set[str] = set()  # inherited variables left out (they named loopback)
        self.pending: list[tuple[Proc, str, float]] = []

    # -- the services host ---------------------------------------------------------------------

    def services(self) -> None:
        listen = [host.services for host in HOSTS]
        self.pg = PrivatePostgres(self.folder, listen=listen, password_networks=[str(NETWORK)])
        self.pg.start()
        self.stack.callback(self.pg.stop, "immediate")
        self.pg.create_role(USER, self.passwords["postgres"], [DATABASE, TRACKER_DATABASE])
        self.rabbit = PrivateRabbit(self.folder, self.logs, listen=listen)
        self.rabbit.start()
        self.stack.callback(self.rabbit.stop)
        self.rabbit.add_user(USER, self.passwords["rabbitmq"], VHOST)
        redis, redis_url = private_redis(
            self.folder, self.logs, listen=listen, password=self.passwords["redis"]
        )
        self.stack.callback(redis.stop)
        self.redis_port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
        self.standin_port, self.actions_port = free_port(), free_port()
        self.gateway_port, self.worker_port, self.sender_port = free_port(), free_port(), free_port()
        self.action_token = secrets.token_hex(16)

    def urls(self, address: str) -> dict[str, str]:
        """The services' URLs as a host reaches them: at the services host's address on its link."""
        pg_password = self.passwords["postgres"]
        return {
            "DATABASE_URL": self.pg.url(DATABASE, address, USER, pg_password),
            "TRACKER_DATABASE_URL": self.pg.url(TRACKER_DATABASE, address, USER, pg_password),
            "RABBITMQ_URL": self.rabbit.url_for(USER, self.passwords["rabbitmq"], address, VHOST),
            "REDIS_URL": f"redis://:{self.passwords['redis']}@{address}:{self.redis_port}/0",
        }

    def env(self, name: str, **settings: str) -> dict[str, str]:
        inherited = {
            key: value
            for key, value in os.environ.items()
            if key not in SERVICE_VARIABLES and not mentions_loopback(value)
        }
        self.dropped |= {key for key, value in os.environ.items() if mentions_loopback(value)}
        addresses = ",".join(sorted({h.address for h in HOSTS} | {h.services for h in HOSTS}))
        env = dict(
            inherited,
            INBOUND_PARTITIONS="16",
            INBOUND_QUEUE_PREFIX=PREFIX,
            TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            TWILIO_PUBLIC_BASE_URL=PUBLIC_BASE_URL,
            TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            TWILIO_SMS_FROM="+15005550006",
            TWILIO_WHATSAPP_FROM="whatsapp:+14155238886",
            TWILIO_STATUS_CALLBACKS="false",
            TWILIO_SEND_TIMEOUT="5",
            SEED_DEMO="1",
            no_proxy=addresses,
            NO_PROXY=addresses,
            **settings,
        )
        self.envs[name] = env
        return env

    def start(self, name: str, argv: list[str], env: dict[str, str], ready: str, seconds: float) -> Proc:
        self.argvs[name] = argv
        proc = Proc(name, argv, env, self.logs).start()
        self.stack.callback(proc.stop)
        self.pending.append((proc, ready, seconds))
        return proc

    def wait_all(self) -> None:
        for proc, ready, seconds in self.pending:
            proc.wait_ready(ready, seconds)
        self.pending = []

    def cli(self, host: Host, env: dict[str, str], *args: str) -> None:
        argv = in_host(host, [sys.executable, "-m", "bot.cli", *args])
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        if done.returncode:
            raise RuntimeError(
                f"bot.cli {args[0]} in {host.name} failed:\n{(done.stdout + done.stderr)[-3000:]}"
            )

    def services_host_processes(self) -> None:
        """The settings of every process; the records migrated and seeded; the stand-in and the
        action server started on the services host."""
        for host in HOSTS:
            (self.folder / host.name).mkdir()  # the host's own writable folder
        gw_urls, wk_urls = self.urls(GW.services), self.urls(WK.services)
        gw_dir, wk_dir = self.folder / GW.name, self.folder / WK.name
        twilio_api = f"http://{GW.services}:{self.standin_port}"
        gateway_env = self.env(
            "gateway",
            DATABASE_URL=gw_urls["DATABASE_URL"],
            RABBITMQ_URL=gw_urls["RABBITMQ_URL"],
            TWILIO_INBOUND_SPOOL=str(gw_dir / "spool.jsonl"),
        )
        sender_env = self.env(
            "sender",
            DATABASE_URL=gw_urls["DATABASE_URL"],
            TWILIO_USE_STANDIN="1",
            TWILIO_API_BASE=twilio_api,
            TWILIO_INBOUND_SPOOL=str(gw_dir / "spool.jsonl"),
            SENDER_HEALTH_HOST=GW.address,
            SENDER_HEALTH_PORT=str(self.sender_port),
        )
        worker_env = self.env(
            "worker",
            **wk_urls,
            ACTION_SERVER_URL=f"http://{WK.services}:{self.actions_port}/webhook",
            ACTION_SERVER_TOKEN=self.action_token,
            WORKER_ID="pphost-wk-worker1",
            WORKER_HTTP_HOST=WK.address,
            WORKER_HTTP_PORT=str(self.worker_port),
            TWILIO_INBOUND_SPOOL=str(wk_dir / "spool.jsonl"),
        )
        # on the services host: the action server (on the worker's link only) and "Twilio"
        actions_env = self.env(
            "action server",
            DATABASE_URL=wk_urls["DATABASE_URL"],
            ACTION_SERVER_TOKEN=self.action_token,
        )
        standin_env = self.env("Twilio stand-in")
        # the records: migrated and seeded once, from the gateway's host, as the role (its DDL too)
        self.cli(GW, dict(gateway_env), "migrate")
        self.cli(GW, dict(gateway_env), "setup-db")
        python = sys.executable
        standin = ["bot.twilio_standin.server", "--host", GW.services, "--port", str(self.standin_port)]
        standin += ["--auth-token", AUTH_TOKEN, "--account-sid", ACCOUNT_SID]
        self.start("standin", [python, "-m", *standin], standin_env, f"{twilio_api}/_standin/health", 30)
        actions = ["bot.action_server", "--host", WK.services, "--port", str(self.actions_port)]
        actions_url = f"http://{WK.services}:{self.actions_port}"
        self.start("actions", [python, "-m", *actions], actions_env, f"{actions_url}/health", 120)
        self.wait_all()
        self.standin = StandinClient(twilio_api)
        self.observer_url = gw_urls["DATABASE_URL"]  # this script counts the answers from the records
        self.host_envs = {"gateway": gateway_env, "sender": sender_env, "worker": worker_env}

    def host_processes(self) -> None:
        """The worker in its host, the gateway and the sender in theirs; the hosts' interface
        counters read first."""
        self.loopback_before = {host.name: Network.loopback_packets(host) for host in HOSTS}
        self.link_before = {host.name: Network.link_packets(host) for host in HOSTS}
        python, envs = sys.executable, self.host_envs
        worker = in_host(WK, [python, "-m", "bot.worker", "--model", self.model])
        self.start("worker", worker, envs["worker"], f"http://{WK.address}:{self.worker_port}/readyz", 300)
        gateway = in_host(
            GW, [python, "-m", "bot.gateway", "--host", GW.address, "--port", str(self.gateway_port)]
        )
        self.gateway_url = f"http://{GW.address}:{self.gateway_port}"
        self.start("gateway", gateway, envs["gateway"], f"{self.gateway_url}/readyz", 60)
        sender = in_host(GW, [python, "-m", "bot.messaging.send_loop"])
        self.start("sender", sender, envs["sender"], f"http://{GW.address}:{self.sender_port}/healthz", 60)
        self.wait_all()

    # -- checks ----------------------------------------------------------------------------------

    def probe(self, host: Host, spec: dict) -> dict:
        argv = in_host(host, [sys.executable, str(ROOT / "bench" / "multi_host_probe.py")])
        done = subprocess.run(
            argv,
            cwd=ROOT,
            env=self.env(f"probe {host.name}"),
            input=json.dumps(spec),
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise RuntimeError(f"probe in {host.name} failed: {done.stderr[-2000:]}")
        return json.loads(done.stdout)

    def check_layout(self) -> None:
        parts = [
            f"{h.name} {h.address} ({h.link}) <-> {h.root_link} {h.services} on the services host"
            for h in HOSTS
        ]
        where = (
            f"gateway and sender in {GW.name}, worker in {WK.name}; PostgreSQL :{self.pg.port}, "
            f"RabbitMQ :{self.rabbit.port}, Redis :{self.redis_port} on {GW.services} and {WK.services}; "
            f"stand-in on {GW.services}:{self.standin_port}, action server on {WK.services}:{self.actions_port}"
        )
        self.checks.report("layout", True, "; ".join(parts) + "; " + where)

    def reach(self, name: str, expected: dict[Host, dict[str, str]]) -> None:
        """TCP connections tried from inside each host, against what a separate host gets."""
        ok, said = True, []
        for host, targets in expected.items():
            got = self.probe(host, {"tcp": list(targets)})["tcp"]
            ok = ok and got == targets
            said.append(f"from {host.name}: " + ", ".join(f"{target} {got[target]}" for target in targets))
        self.checks.report(name, ok, "; ".join(said))

    def check_own_loopback(self) -> None:
        """Before the hosts' processes start (these probes are the only loopback traffic allowed):
        the services' ports on a host's own 127.0.0.1 have nothing behind them."""
        pg, mq, rd = self.pg.port, self.rabbit.port, self.redis_port
        self.reach(
            "own loopback",
            {
                host: {
                    f"127.0.0.1:{pg}": "refused",
                    f"127.0.0.1:{mq}": "refused",
                    f"127.0.0.1:{rd}": "refused",
                }
                for host in HOSTS
            },
        )

    def check_reach(self) -> None:
        """With everything running: each host reaches the services on its link; the gateway's
        host has no route to the worker's host or to the action server, nor the worker's host to
        the gateway's or to the stand-in."""
        pg = self.pg.port
        self.reach(
            "reach",
            {
                GW: {
                    f"{GW.services}:{pg}": "open",
                    f"{WK.address}:{self.worker_port}": "no route",
                    f"{WK.services}:{self.actions_port}": "no route",
                },
                WK: {
                    f"{WK.services}:{pg}": "open",
                    f"{WK.services}:{self.actions_port}": "open",
                    f"{GW.address}:{self.gateway_port}": "no route",
                    f"{GW.services}:{self.standin_port}": "no route",
                },
            },
        )

    def check_credentials(self) -> None:
        for host in HOSTS:
            urls = self.urls(host.services)
            spec = {
                "postgres": {
                    "superuser, no password": self.pg.url("postgres", host.services),
                    "role, wrong password": self.pg.url(DATABASE, host.services, USER, "wrong"),
                    "role": urls["DATABASE_URL"],
                },
                "rabbitmq": {
                    "guest": f"amqp://guest:guest@{host.services}:{self.rabbit.port}/",
                    "user": urls["RABBITMQ_URL"],
                },
                "redis": {
                    "no password": f"redis://{host.services}:{self.redis_port}/0",
                    "password": urls["REDIS_URL"],
                },
            }
            got = self.probe(host, spec)
            pg, mq, rd = got["postgres"], got["rabbitmq"], got["redis"]
            ok = (
                pg["superuser, no password"].startswith("refused")
                and pg["role, wrong password"].startswith("refused")
                and pg["role"].startswith("ok")
                and f"sees {host.address}" in pg["role"]
                and mq["guest"].startswith("refused")
                and mq["user"] == "ok"
                and rd["no password"].startswith("refused")
                and rd["password"].startswith("ok")
                and f"sees {host.address}" in rd["password"]
            )
            detail = "; ".join(
                f"{kind} {label}: {answer}" for kind in spec for label, answer in got[kind].items()
            )
            self.checks.report(f"credentials from {host.name}", ok, detail)

    def check_settings(self) -> None:
        """Every value each process was given: no loopback anywhere, the services at veth addresses."""
        wrong, named = [], Counter[str]()
        for name, env in self.envs.items():
            if name.startswith("probe"):
                continue
            for key, value in env.items():
                if mentions_loopback(value):
                    wrong.append(f"{name} {key}")
                if key in SERVICE_VARIABLES or key.endswith("_HOST"):
                    for host in HOSTS:
                        for address in (host.address, host.services):
                            if address in value:
                                named[address] += 1
            if env.get("ALLOW_LOCAL_CREDENTIALS"):
                wrong.append(f"{name} ALLOW_LOCAL_CREDENTIALS")
        for name, argv in self.argvs.items():
            wrong += [f"{name} argument {word}" for word in argv if mentions_loopback(word)]
        processes = ", ".join(name for name in self.envs if not name.startswith("probe"))
        addresses = ", ".join(f"{address} x{count}" for address, count in sorted(named.items()))
        detail = (
            f"{processes}: service and listening settings name {addresses}, command lines no loopback; "
            f"ALLOW_LOCAL_CREDENTIALS unset; left out of the inherited environment: "
            f"{', '.join(sorted(self.dropped)) or 'nothing'}"
        )
        self.checks.report("settings", not wrong, detail if not wrong else "loopback in " + ", ".join(wrong))

    def check_sockets(self) -> None:
        """After the traffic, while everything runs: each host's TCP connections all go between
        its veth address and the services host's; the services' clients are the hosts."""
        ports = {
            self.pg.port: "PostgreSQL",
            self.rabbit.port: "RabbitMQ",
            self.redis_port: "Redis",
            self.standin_port: "stand-in",
            self.actions_port: "action server",
        }
        for host in HOSTS:
            established = sockets(["ip", "netns", "exec", host.name, "ss", "-Htn", "state", "established"])
            listening = sockets(["ip", "netns", "exec", host.name, "ss", "-Htln"])
            kinds = Counter(
                f"to {ports[peer_port]}" if peer_port in ports else f"from the services host to :{local_port}"
                for (_, local_port), (_, peer_port) in established
            )
            loopback = sum(1 for local, peer in established if is_loopback(local[0]) or is_loopback(peer[0]))
            ok = bool(established) and all(
                local == host.address and peer == host.services for (local, _), (peer, _) in established
            )
            ok = ok and all(address == host.address for (address, _), _ in listening)
            bound = ", ".join(sorted({f"{address}:{port}" for (address, port), _ in listening}))
            detail = (
                f"{len(established)} TCP connections, all {host.address} <-> {host.services}: "
                if ok
                else f"{len(established)} TCP connections: "
            )
            detail += ", ".join(f"{kind} x{count}" for kind, count in sorted(kinds.items()))
            detail += f"; {loopback} on loopback; listening on {bound}"
            self.checks.report(f"sockets in {host.name}", ok, detail)
        owners = {host.address: host.name for host in HOSTS}
        clients = Counter(
            f"{ports[local_port]} <- {owners[peer]}"
            for (_, local_port), (peer, _) in sockets(["ss", "-Htn", "state", "established"])
            if local_port in ports and peer in owners
        )
        needed = {f"{service} <- {host.name}" for service in ("PostgreSQL", "RabbitMQ") for host in HOSTS}
        needed.add(f"Redis <- {WK.name}")
        detail = ", ".join(f"{name} x{count}" for name, count in sorted(clients.items()))
        self.checks.report("services host", needed <= set(clients), f"connections from the hosts: {detail}")

    def check_loopback(self) -> None:
        said, ok = [], True
        for host in HOSTS:
            lo = Network.loopback_packets(host) - self.loopback_before[host.name]
            veth = Network.link_packets(host) - self.link_before[host.name]
            ok = ok and lo == 0 and veth > 0
            said.append(f"{host.name}: lo {lo} packets, {host.link} {veth}")
        self.checks.report("loopback traffic", ok, "since the processes started: " + ", ".join(said))


def sockets(argv: list[str]) -> list[tuple[tuple[str, int], tuple[str, int]]]:
    """(local, peer) of each line of ``ss -Htn``/``-Htln``: addresses without brackets."""
    found = []
    for line in subprocess.run(argv, capture_output=True, text=True, check=True).stdout.splitlines():
        words = [word for word in line.split() if ":" in word]
        if len(words) < 2:
            continue
        pair = []
        for word in words[:2]:
            address, _, port = word.rpartition(":")
            pair.append((address.strip("[]").split("%")[0], int(port) if port.isdigit() else 0))
        found.append((pair[0], pair[1]))
    return found


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.removeprefix("::ffff:")).is_loopback
    except ValueError:
        return False


def drive(prod: MultiHost, farmers: int, messages: int, gap: float) -> Tally:
    ledger = Ledger([prod.gateway_url])
    phones = [f"+5244319{index:05d}" for index in range(1, farmers + 1)]
    threads = [
        ledger.farmer("multi-host", phone, BODIES[:messages], gap, "sms" if index % 2 else "whatsapp")
        for index, phone in enumerate(phones)
    ]
    for thread in threads:
        thread.join(120)
    sent = ledger.by_scenario["multi-host"]
    refused = Counter(each.status for each in sent if each.status != 200)
    log(
        f"{len(sent)} webhooks posted to {prod.gateway_url}"
        + (f", not taken: {dict(refused)}" if refused else "")
    )
    deadline = time.monotonic() + WAIT_FOR_REPLIES
    while time.monotonic() < deadline and unanswered(sent, prod.standin, prod.observer_url):
        time.sleep(0.5)
    time.sleep(SETTLE)
    replies, strays = received_replies(prod.standin, prod.observer_url)
    result = tally(sent, replies)
    result.out_of_order = out_of_order(sent, prod.standin, prod.observer_url)
    result.duplicates += strays
    return result


def run(model: str, farmers: int, messages: int, gap: float, keep_logs: str | None) -> int:
    began = time.monotonic()
    checks, network = Checks(), Network()
    result, stopped = Tally(), False
    before = NetState.now()
    folder = Path(tempfile.mkdtemp(prefix="pp-multihost-"))
    folder.chmod(0o755)  # the postgres OS user goes through it to its cluster
    try:
        removed = network.clear_stale()
        if removed:
            log(f"removed what an earlier aborted run left: {', '.join(removed)}")
            before = NetState.now()
        network.check_free()
        with ExitStack() as stack:
            stack.callback(network.down)  # last: after every process is stopped
            network.up()
            prod = MultiHost(folder, model, stack, checks)
            log(f"namespaces up; starting the services host's PostgreSQL, RabbitMQ and Redis in {folder}")
            prod.services()
            prod.check_layout()
            log("migrating from pphost-gw; starting the stand-in and the action server (services host)")
            prod.services_host_processes()
            prod.check_own_loopback()  # before the hosts' processes: its loopback probes are not theirs
            prod.check_credentials()
            log("starting the worker (pphost-wk), the gateway and the sender (pphost-gw)")
            prod.host_processes()
            log(f"up in {time.monotonic() - began:.0f} s")
            prod.check_settings()
            prod.check_reach()
            result = drive(prod, farmers, messages, gap)
            prod.check_sockets()
            prod.check_loopback()
    except KeyboardInterrupt:
        stopped = True
        log("interrupted: stopping everything it started, deleting the namespaces")
    except Exception as error:  # reported as a failed check; the clean-up below runs all the same
        checks.report("run", False, f"{type(error).__name__}: {error}")
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):  # the clean-up itself is not interrupted
            signal.signal(signum, signal.SIG_IGN)
        if keep_logs and (folder / "logs").exists():
            shutil.rmtree(keep_logs, ignore_errors=True)
            shutil.copytree(folder / "logs", keep_logs)
        shutil.rmtree(folder, ignore_errors=True)
        network.down()  # again, in case the stack never got to it
    after = NetState.now()
    checks.report(
        "restored",
        after == before and not folder.exists(),
        f"ip netns list {list(after.netns) or '(empty)'}, links {', '.join(after.links)}, "
        f"/run/netns {after.run_netns}: as before the run {after == before}; {folder} removed "
        f"{not folder.exists()}; no sysctl or firewall rule was changed",
    )
    print(f"run took {time.monotonic() - began:.0f} s")
    print(
        f"multi-host: {result.messages} messages, answered {result.answered}, lost {result.lost}, "
        f"duplicates {result.duplicates}, out of order {result.out_of_order}"
        + (f"; failed checks: {', '.join(checks.failed)}" if checks.failed else "")
    )
    if stopped:
        return 130
    complete = result.messages == farmers * messages and result.answered == result.messages
    clean = not (result.lost or result.duplicates or result.out_of_order or checks.failed)
    return 0 if complete and clean else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="models/<name>.tar.gz (default: the current one)")
    parser.add_argument("--farmers", type=int, default=8, help="farmers writing at once (1-40)")
    parser.add_argument("--messages", type=int, default=4, help=f"messages each (1-{len(BODIES)})")
    parser.add_argument("--gap", type=float, default=0.3, help="seconds between a farmer's messages")
    parser.add_argument("--keep-logs", metavar="DIR", help="copy the processes' logs there first")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("make multi-host needs root: it makes network namespaces (ip netns).", file=sys.stderr)
        return 2
    if not (1 <= args.farmers <= 40 and 1 <= args.messages <= len(BODIES)):
        parser.error("--farmers 1-40, --messages 1-5")
    model = args.model or current_model()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, interrupted)
    return run(model, args.farmers, args.messages, args.gap, args.keep_logs)


def interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # stopped like Ctrl-C: the ExitStack stops everything


if __name__ == "__main__":
    raise SystemExit(main())
