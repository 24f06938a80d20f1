"""Rasa's own checks, run as a developer would: data validation and the test stories."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import model_path

ROOT = Path(__file__).resolve().parents[2]
RASA = str(Path(sys.executable).parent / "rasa")
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore", RASA_TELEMETRY_ENABLED="false")


def test_training_data_and_domain_validate_without_warnings():
    result = subprocess.run(
        [RASA, "data", "validate", "--fail-on-warnings"],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


@pytest.mark.rasa
def test_stories_for_every_topic_pass(tmp_path):
    model = model_path()
    result = subprocess.run(
        [
            RASA,
            "test",
            "core",
            "-m",
            str(model),
            "--stories",
            "tests/stories",
            "--fail-on-prediction-errors",
            "--out",
            str(tmp_path / "results"),
        ],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=900,
    )
    failed = tmp_path / "results" / "failed_test_stories.yml"
    detail = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, detail[-4000:] + result.stdout[-3000:] + result.stderr[-3000:]
