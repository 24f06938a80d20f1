"""The training data and the held-out set: counts per intent, no duplicates, no shared sentence."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_nlu_data_checks_pass():
    result = subprocess.run(
        [sys.executable, "data/check_nlu_data.py"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
