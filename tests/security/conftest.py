"""The attack suite: each test attacks the running stack (or the code it runs) as an outsider
would, and records what it tried and what it got with ``attack``; the whole list is printed at
the end of the run (pytest -s, or the terminal summary) and written to
tests/artifacts/security/attacks.md, so the closing note of a change can cite it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

ARTIFACT = Path(__file__).resolve().parents[1] / "artifacts" / "security" / "attacks.md"


@dataclass(frozen=True)
class Attack:
    test: str
    tried: str
    got: str


_ATTACKS: list[Attack] = []


class AttackLog:
    """What one test tried and what it got, in plain words: ``attack("GET /x without a token",
    f"{status}")``."""

    def __init__(self, test: str):
        self.test = test

    def __call__(self, tried: str, got: str) -> None:
        _ATTACKS.append(Attack(self.test, tried, got))


@pytest.fixture
def attack(request) -> AttackLog:
    return AttackLog(request.node.nodeid.split("::", 1)[-1])


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _ATTACKS:
        return
    lines = ["| test | tried | got |", "|---|---|---|"]
    lines += [f"| {a.test} | {a.tried} | {a.got} |" for a in _ATTACKS]
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    terminalreporter.write_sep("-", f"attacks tried: {len(_ATTACKS)} (tests/artifacts/security/attacks.md)")
