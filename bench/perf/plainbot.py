"""The plain Rasa bot the benchmark compares with: this project's NLU data and pipeline, nothing else.

Static `utter_` responses for every intent through rules, RulePolicy only, no action server, no
custom channel, tracker store and lock store as Rasa configures them. Built in a temporary
directory from data/nlu and config.yml's pipeline on every run, so it follows the project's data.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from bench.perf.corpus import read_nlu
from bot.settings import PROJECT_ROOT

TRAIN_TIMEOUT_SECONDS = 1800


def write_project(target: Path, root: Path = PROJECT_ROOT) -> Path:
    """config.yml, domain.yml, data/ (NLU copied, one rule per intent) and credentials.yml in `target`."""
    config = yaml.safe_load((root / "config.yml").read_text(encoding="utf-8"))
    nlu = read_nlu(root / "data" / "nlu")
    (target / "data").mkdir(parents=True, exist_ok=True)
    shutil.copytree(root / "data" / "nlu", target / "data" / "nlu", dirs_exist_ok=True)
    answered = [*nlu.intents, "nlu_fallback"]
    plain_config = {
        "recipe": "default.v1",
        "language": config.get("language", "nl"),
        "assistant_id": "plain-rasa-benchmark",
        "pipeline": config["pipeline"],
        "policies": [{"name": "RulePolicy"}],
    }
    domain = {
        "version": "3.1",
        "intents": list(nlu.intents),
        "entities": list(nlu.entities),
        "responses": {
            f"utter_{intent}": [{"text": f"Dit is het vaste antwoord op {intent}."}] for intent in answered
        },
        "session_config": {"session_expiration_time": 60, "carry_over_slots_to_new_session": True},
    }
    rules = {
        "version": "3.1",
        "rules": [
            {"rule": f"answer {intent}", "steps": [{"intent": intent}, {"action": f"utter_{intent}"}]}
            for intent in answered
        ],
    }
    files = {
        "config.yml": plain_config,
        "domain.yml": domain,
        "data/rules.yml": rules,
        "credentials.yml": {"rest": None},
    }
    for name, document in files.items():
        text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
        (target / name).write_text(text, encoding="utf-8")
    return target


def inputs_hash(project: Path, root: Path = PROJECT_ROOT) -> str:
    """What the plain model is trained from: its project files, data/nlu and our NLU components."""
    digest = hashlib.md5()
    files = [project / "config.yml", project / "domain.yml", project / "data" / "rules.yml"]
    files += sorted((root / "data" / "nlu").rglob("*.yml")) + sorted((root / "bot" / "nlu").glob("*.py"))
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def endpoints_file(target: Path, tracker_db: Path | None) -> Path:
    """endpoints.yml for the plain bot: Rasa's SQL tracker store on SQLite, or (None) in memory.

    The SQL store is the assistant's own `UrlSQLTrackerStore`: Rasa's SQLTrackerStore with its URL
    from TRACKER_STORE_URL and SQLite's write-ahead log, so both bots pay the same for the store
    (the assistant's masking subclass adds its own cost on top, which is measured with it).
    """
    path = target / ("endpoints-sql.yml" if tracker_db else "endpoints-memory.yml")
    document = {"tracker_store": {"type": "bot.rasa_stores.UrlSQLTrackerStore"}} if tracker_db else {}
    path.write_text(yaml.safe_dump(document) if document else "{}\n", encoding="utf-8")
    return path


def train(
    config: Path, domain: Path, data: list[Path], out: Path, name: str, cache: Path, log: Path
) -> tuple[Path, float]:
    """`rasa train` from scratch (its own empty cache), 2 threads as `make train`; model and seconds."""
    env = {**os.environ, "RASA_CACHE_DIRECTORY": str(cache), "RASA_TELEMETRY_ENABLED": "false"}
    command = [
        sys.executable, "-m", "rasa", "train", "--quiet", "--num-threads", "2",
        "--config", str(config), "--domain", str(domain), "--data", *map(str, data),
        "--out", str(out), "--fixed-model-name", name,
    ]  # fmt: skip
    started = time.monotonic()
    with log.open("wb") as output:
        subprocess.run(
            command, cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
            check=True, timeout=TRAIN_TIMEOUT_SECONDS,
        )  # fmt: skip
    return out / f"{name}.tar.gz", time.monotonic() - started


def train_plain(work: Path) -> tuple[Path, float]:
    project = write_project(work / "plain")
    return train(
        project / "config.yml", project / "domain.yml", [project / "data"], work / "models", "plain",
        work / "cache-plain", work / "train-plain.log",
    )  # fmt: skip


def train_project(work: Path) -> tuple[Path, float]:
    """This project's model, as `make train` builds it, into `work` (models/ is left alone)."""
    return train(
        PROJECT_ROOT / "config.yml", PROJECT_ROOT / "domain.yml", [PROJECT_ROOT / "data"],
        work / "models", "project", work / "cache-project", work / "train-project.log",
    )  # fmt: skip
