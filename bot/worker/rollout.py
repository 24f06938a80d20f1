"""A new model across the Rasa workers, one at a time, never leaving no worker answering.

    python -m bot.worker.rollout --model models/model-<new>.tar.gz --link models/current.tar.gz \\
        --instances 1 2 [--restart "systemctl restart pp-worker@{n}"] [--port-base 9110]

The workers load the model the link names (``MODEL=models/current.tar.gz`` in the environment
file, deploy/systemd/pp-worker@.service). The rollout:

1. checks that every worker answers ready (/readyz), and that there are at least two: with one,
   its restart is a gap (``--allow-gap`` to accept it);
2. points the link at the new model (atomically; running workers keep the model they loaded);
3. for each worker in turn: waits until another worker is ready, restarts it, and waits until it
   is ready again with the new model's file name on its /readyz. A worker loads its model before
   it takes any partition, and one stopping hands its partitions over at once;
4. when a worker does not come back with the new model in ``--timeout`` seconds, points the link
   back, restarts that worker on the old model, and exits 1 (the others were not touched yet).

While it runs it reads every worker's /readyz twice a second, and ends with the fewest workers
it saw ready at once. Exit codes: 0 rolled out, 1 rolled back, 2 refused before starting.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path


@dataclass(frozen=True)
class WorkerRef:
    name: str  # what the restart command names ("1" for pp-worker@1)
    readyz: str  # its readiness page


def readiness(worker: WorkerRef) -> tuple[bool, str]:
    """(ready, the model it serves); not ready when it does not answer."""
    try:
        with urllib.request.urlopen(worker.readyz, timeout=2) as answer:
            body = json.loads(answer.read() or b"{}")
            return answer.status == 200, str(body.get("model", ""))
    except (urllib.error.URLError, OSError, ValueError):
        return False, ""


class Watch:
    """Reads every worker's readiness in the background; remembers the fewest ready at once."""

    def __init__(self, workers: list[WorkerRef], every: float = 0.5):
        self.workers, self.every = workers, every
        self.fewest = len(workers)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            ready = sum(readiness(w)[0] for w in self.workers)
            self.fewest = min(self.fewest, ready)
            self._stop.wait(self.every)

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def point_link(link: Path, target: Path) -> None:
    """The link names ``target`` from now on, replaced in one step."""
    spare = link.with_name(link.name + ".rollout")
    spare.unlink(missing_ok=True)
    spare.symlink_to(target.resolve())
    os.replace(spare, link)


def _any_ready(workers: list[WorkerRef]) -> bool:
    return any(readiness(w)[0] for w in workers)


def _serves(worker: WorkerRef, model_name: str) -> bool:
    return readiness(worker) == (True, model_name)


def _wait(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return False


def roll_out(
    workers: list[WorkerRef],
    restart: Callable[[WorkerRef], None],
    model: Path,
    link: Path,
    timeout: float = 300,
    say: Callable[[str], None] = print,
) -> int:
    """The steps above; returns the exit code."""
    new, old = model.resolve().name, link.resolve() if link.exists() else None
    with Watch(workers) as watch:
        for worker in workers:
            others = [w for w in workers if w is not worker]
            if others and not _wait(partial(_any_ready, others), timeout):
                say(f"rollout: no other worker ready to answer while {worker.name} restarts: stopped")
                return _back(workers, worker, restart, link, old, timeout, say)
            if worker is workers[0]:
                point_link(link, model)
            started = time.monotonic()
            restart(worker)
            if not _wait(partial(_serves, worker, new), timeout):
                say(f"rollout: worker {worker.name} not ready on {new} in {timeout:.0f} s")
                return _back(workers, worker, restart, link, old, timeout, say)
            say(f"rollout: worker {worker.name} ready on {new} in {time.monotonic() - started:.0f} s")
    say(f"rollout: {len(workers)} workers on {new}; never fewer than {watch.fewest} ready at once")
    return 0


def _back(
    workers: list[WorkerRef],
    failed: WorkerRef,
    restart: Callable[[WorkerRef], None],
    link: Path,
    old: Path | None,
    timeout: float,
    say: Callable[[str], None],
) -> int:
    """Points the link back and restarts the workers already on the new model (this one too)."""
    if old is None:
        say("rollout: there was no model before: nothing to go back to")
        return 1
    point_link(link, old)
    for worker in workers[: workers.index(failed) + 1]:
        restart(worker)
        back = _wait(partial(_serves, worker, old.name), timeout)
        say(f"rollout: worker {worker.name} {'back' if back else 'NOT back'} on {old.name}")
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.worker.rollout", description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, type=Path, help="the new model's file")
    parser.add_argument("--link", required=True, type=Path, help="the link the workers' MODEL names")
    parser.add_argument("--instances", nargs="+", required=True, help="the workers' numbers: 1 2 ...")
    parser.add_argument("--restart", default="systemctl restart pp-worker@{n}")
    parser.add_argument("--port-base", type=int, default=9110, help="worker n answers on port-base + n")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--allow-gap", action="store_true", help="roll out a single worker anyway")
    args = parser.parse_args(argv)
    if not args.model.is_file():
        print(f"rollout: {args.model} is not a model file", file=sys.stderr)
        return 2
    workers = [WorkerRef(n, f"http://{args.host}:{args.port_base + int(n)}/readyz") for n in args.instances]
    if len(workers) < 2 and not args.allow_gap:
        print("rollout: with one worker its restart leaves nobody answering (--allow-gap)", file=sys.stderr)
        return 2
    not_ready = [w.name for w in workers if not readiness(w)[0]]
    if not_ready:
        print(f"rollout: workers not ready before starting: {', '.join(not_ready)}", file=sys.stderr)
        return 2

    def restart(worker: WorkerRef) -> None:
        subprocess.run(shlex.split(args.restart.format(n=worker.name)), check=False, timeout=args.timeout)

    return roll_out(workers, restart, args.model, args.link, args.timeout)


if __name__ == "__main__":
    raise SystemExit(main())
