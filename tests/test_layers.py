"""What may import what (README, "Layers"): each package imports only from the layers below it or
from itself, so no import runs back up a layer. Every import counts, inside functions too."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Lower number, lower layer. Entry points (top) parse and delegate; nothing imports them.
LAYERS: dict[str, int] = {
    "bot.config": 0,
    "bot.db": 0,
    "bot.timeutil": 0,
    "bot.text": 0,
    "bot.phones": 0,
    "bot.logs": 0,
    "bot.heap": 0,
    "bot.opt_words": 0,
    "bot.records": 1,
    "bot.replies": 1,
    "bot.nlu": 1,
    "bot.assistant": 2,
    "bot.messaging": 2,
    "bot.channels": 3,
    "bot.console": 3,
    "bot.stack": 3,
    "bot.action_server": 3,
    "bot.twilio_standin": 3,
    "bot.gateway": 3,
    "bot.rasa_fixes": 3,
    "actions": 3,
    # The Rasa worker of the production mode runs turns the way the channels do (their
    # UserMessage and turn thread), so it sits above them.
    "bot.worker": 4,
    # The retention purge spans the records, the messaging tables and the console's tables (and
    # Rasa's tracker, which the console reads), so it sits above them; the CLI runs it.
    "bot.retention": 4,
    "bot.cli": 5,
}
BASE = 0


def _package(module: str) -> str | None:
    return next(
        (
            name
            for name in sorted(LAYERS, key=len, reverse=True)
            if module == name or module.startswith(name + ".")
        ),
        None,
    )


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def upward_imports() -> list[str]:
    problems = []
    for folder in ("bot", "actions"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            here = _package(_module_name(path))
            if here is None:
                continue
            for target in sorted(_imports(path)):
                there = _package(target)
                if there is None or there == here:
                    continue
                if LAYERS[there] > LAYERS[here] or (LAYERS[there] == LAYERS[here] != BASE):
                    problems.append(f"{path.relative_to(ROOT)} imports {target}")
    return problems


def test_no_import_runs_back_up_a_layer():
    assert upward_imports() == []


def test_every_package_of_bot_has_a_layer():
    packages = {
        f"bot.{p.name}" for p in (ROOT / "bot").iterdir() if p.is_dir() and (p / "__init__.py").exists()
    }
    modules = {f"bot.{p.stem}" for p in (ROOT / "bot").glob("*.py") if p.stem != "__init__"}
    assert packages | modules <= set(LAYERS)
