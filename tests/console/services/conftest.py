"""Service tests that read conversations need the console's copy of the tracker, which pages make
when they are opened: ``copied_tracker`` makes it first."""

from __future__ import annotations

import pytest

from tests.console.conftest import copy_tracker


@pytest.fixture
def copied_tracker(console_env):
    copy_tracker(console_env)
    return console_env
