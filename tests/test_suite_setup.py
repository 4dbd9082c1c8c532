"""The test set-up itself: a test that hangs fails with a timeout instead of stalling the run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def test_every_test_has_a_time_limit(pytestconfig: pytest.Config) -> None:
    assert 0 < float(pytestconfig.getini("timeout")) <= 300


def test_a_test_sleeping_past_the_limit_fails_with_a_timeout(tmp_path: Path) -> None:
    (tmp_path / "test_sleeps.py").write_text(
        "import time\n\n\ndef test_sleeps():\n    time.sleep(30)\n", encoding="utf-8"
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "timeout=1", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Timeout" in run.stdout
    assert "1 failed" in run.stdout
