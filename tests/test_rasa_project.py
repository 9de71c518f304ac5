"""Rasa's own checks on the project: data validation, and test stories for every phase."""

from __future__ import annotations

import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
import yaml

from bot.content import ContentRepository
from bot.devserver import latest_model
from bot.phases import PHASES
from bot.settings import PROJECT_ROOT

RASA = str(Path(sys.executable).parent / "rasa")


def run_rasa(*args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RASA, *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_rasa_data_validate_is_clean() -> None:
    result = run_rasa("data", "validate", "--fail-on-warnings")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_test_stories_cover_every_phase() -> None:
    stories = yaml.safe_load((PROJECT_ROOT / "tests" / "test_stories.yml").read_text())["stories"]
    intents = {step["intent"] for story in stories for step in story["steps"] if "intent" in step}
    home = ContentRepository(PROJECT_ROOT / "journeys", PROJECT_ROOT / "domain.yml").current().home_phases
    covered = {home[intent] for intent in intents if intent in home}
    assert set(PHASES) <= covered


def test_test_stories_pass(tmp_path: Path) -> None:
    model = latest_model(PROJECT_ROOT / "models")
    if model is None:
        pytest.skip("no trained model in models/: `make test` trains one first")
    result = run_rasa(
        "test", "core", "--model", str(model), "--stories", "tests/test_stories.yml",
        "--fail-on-prediction-errors", "--out", str(tmp_path / "results"),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def test_every_domain_intent_has_training_examples() -> None:
    domain_intents = set(yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())["intents"])
    counts: dict[str, int] = {}
    for path in (PROJECT_ROOT / "data" / "nlu").glob("*.yml"):
        for block in yaml.safe_load(path.read_text())["nlu"]:
            examples = [line for line in block["examples"].splitlines() if line.strip().startswith("- ")]
            counts[block["intent"]] = counts.get(block["intent"], 0) + len(examples)
    assert set(counts) == domain_intents
    assert min(counts.values()) >= 25, sorted(counts.items(), key=lambda item: item[1])[:3]


def _fold(text: str) -> str:
    """Lower case, accents folded ("Australië" → "australie"), punctuation dropped, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    unaccented = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", unaccented).split())


def _examples(path: Path) -> set[str]:
    found = set()
    for block in yaml.safe_load(path.read_text())["nlu"]:
        for line in block["examples"].splitlines():
            if line.strip().startswith("- "):
                found.add(_fold(line.strip()[2:]))
    return found


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Australië", "Australie"),
        ("Kan ik één offerte krijgen?", "kan ik een offerte krijgen"),
        ("café-eigenaar", "cafe eigenaar"),
        ("Wat kost  het?", "wat kost het"),
    ],
)
def test_the_heldout_guard_folds_accents_and_punctuation(one: str, other: str) -> None:
    assert _fold(one) == _fold(other)


def test_the_heldout_guard_keeps_different_messages_apart() -> None:
    assert _fold("Australië") != _fold("Austria")
    assert _fold("één paneel") != _fold("twee panelen")


def test_the_heldout_set_shares_no_message_with_the_training_data() -> None:
    training = set().union(*(_examples(path) for path in (PROJECT_ROOT / "data" / "nlu").glob("*.yml")))
    heldout = _examples(PROJECT_ROOT / "tests" / "heldout" / "nlu.yml")
    assert not heldout & training
