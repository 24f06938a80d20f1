"""The project's own checks, configured in pyproject.toml, run as part of the suite: ruff (lint
and format), mypy over bot/ and actions/, and the size limit on modules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MAX_MODULE_LINES = 400


def _run(*command: str) -> subprocess.CompletedProcess:
    tool = BIN / command[0]
    if not tool.exists():
        pytest.skip(f"{command[0]} is not installed in this environment (it is in requirements.lock)")
    return subprocess.run([str(tool), *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize(
    "command",
    [("ruff", "check", "."), ("ruff", "format", "--check", "."), ("mypy",)],
    ids=["ruff-lint", "ruff-format", "mypy"],
)
def test_check_passes(command):
    result = _run(*command)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_no_module_of_bot_or_actions_is_over_the_size_limit():
    sizes = {
        path.relative_to(ROOT): len(path.read_text(encoding="utf-8").splitlines())
        for folder in ("bot", "actions")
        for path in (ROOT / folder).rglob("*.py")
    }
    assert {str(path): n for path, n in sizes.items() if n > MAX_MODULE_LINES} == {}
