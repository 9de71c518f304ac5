"""The trained model meets the NLU targets on the held-out set (never used for training)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.devserver import latest_model
from bot.settings import PROJECT_ROOT


def test_trained_model_meets_phase_and_intent_targets(tmp_path: Path) -> None:
    model = latest_model(PROJECT_ROOT / "models")
    if model is None:
        pytest.skip("no trained model in models/: `make test` trains one first")
    report = tmp_path / "scores.json"
    result = subprocess.run(
        [sys.executable, "scripts/evaluate.py", "--model", str(model), "--check", "--json", str(report)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    scores = json.loads(report.read_text())[0]
    assert scores["phase_messages"] >= 8 * 30
    assert scores["phase_accuracy"] >= 0.92, result.stdout[-2500:]
    assert scores["intent_macro_f1"] >= 0.90, result.stdout[-2500:]
    assert result.returncode == 0, result.stdout[-2500:] + result.stderr[-2500:]
