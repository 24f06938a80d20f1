"""CPU of Rasa's check of the action server's answer, as Rasa 3.6 runs it and with bot/rasa_fixes.py,
in one run (bench/README.md, bench-load runs 5-7).

    .venv/bin/python bench/action_check.py [--calls 300]

Each check runs ``--calls`` times over the same answers (a typical one of our actions: slot events,
a bot event, a response), alternately, twice; prints CPU milliseconds a call and the ratio.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import rasa_fixes

ANSWER = {
    "events": [{"event": "slot", "timestamp": None, "name": f"slot_{i}", "value": "abc"} for i in range(6)]
    + [{"event": "bot", "timestamp": None, "text": "Su pago está en proceso.", "data": {}}],
    "responses": [{"text": "Su pago está en proceso.", "buttons": [], "custom": {}, "image": None}],
}


def cpu_ms_per_call(check: Callable[[dict], bool], calls: int) -> float:
    began = time.process_time()
    for _ in range(calls):
        assert check(ANSWER)
    return (time.process_time() - began) / calls * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    action = RemoteAction("action_bench", EndpointConfig("http://127.0.0.1:1"))
    checks = {
        "rasa": lambda answer: rasa_fixes._RASA_CHECK(action, answer),
        "fixed": lambda answer: rasa_fixes._validate_action_result(action, answer),
    }
    spent: dict[str, list[float]] = {name: [] for name in checks}
    for _ in range(2):
        for name, check in checks.items():
            spent[name].append(cpu_ms_per_call(check, args.calls))
    for name, values in spent.items():
        print(f"{name}: {' / '.join(f'{v:.2f}' for v in values)} ms of CPU a call ({args.calls} calls)")
    print(f"rasa / fixed: {min(spent['rasa']) / min(spent['fixed']):.1f}×")


if __name__ == "__main__":
    main()
