"""CPU seconds a process and everything under it used, read from /proc (Linux).

A process's own user and system time, plus what its children that ended and were waited for used
(``cutime``/``cstime``), over every live process of the tree: a child that is still running counts
on its own, one that ended counts in its parent. PostgreSQL's backends end and are waited for by
the postmaster, so a cluster's tree counts every connection it served. A process waited for by
something outside the tree (none of the ones the benches start) would be missed.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds of the process and its waited-for children)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "; comm may hold spaces
    parent = int(fields[1])
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return parent, (utime + stime + cutime + cstime) / TICKS


def tree_seconds(roots: list[int]) -> float:
    """CPU seconds of the given processes and all their live descendants (each counted once)."""
    children: dict[int, list[int]] = defaultdict(list)
    seconds: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None:
                children[stat[0]].append(int(entry))
                seconds[int(entry)] = stat[1]
    total, seen, todo = 0.0, set[int](), list(roots)
    while todo:
        pid = todo.pop()
        if pid in seen or pid not in seconds:
            continue
        seen.add(pid)
        total += seconds[pid]
        todo.extend(children[pid])
    return total


class CpuMeter:
    """CPU seconds by kind of process ("worker", "database", ...) between two readings."""

    def __init__(self) -> None:
        self.kinds: dict[str, list[int]] = defaultdict(list)
        self._start: dict[str, float] = {}

    def watch(self, kind: str, pid: int | None) -> None:
        if pid is not None:
            self.kinds[kind].append(pid)

    def start(self) -> None:
        self._start = {kind: tree_seconds(pids) for kind, pids in self.kinds.items()}

    def stop(self) -> dict[str, float]:
        """Seconds used since ``start`` by each kind (a kind watched after ``start``: since it began)."""
        return {kind: tree_seconds(pids) - self._start.get(kind, 0.0) for kind, pids in self.kinds.items()}
