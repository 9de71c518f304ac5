"""Component figures behind bench/RESULTS.md's "what was changed": Rasa's way next to ours, in one process.

    .venv/bin/python -m bench.micro            # prints a Markdown table (about a minute)

Each row times the same work done the way Rasa (or scikit-learn) does it and the way this project
does it now, on the shipped model and on a real SQLite tracker store written by our store:
- scoring one message with a text classifier whose weights are row-major (as trained) or
  column-major (`TextModel`: scipy copied every row-major matrix per message);
- checking an action server answer with Rasa's `jsonschema.validate` or `answer_error`;
- reading a conversation of 20 and 100 messages with Rasa's SQLTrackerStore or ours, which reads
  only rows it has not read before.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tarfile
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bot.devserver import latest_model
from bot.settings import PROJECT_ROOT

# A typical answer of action_journey_reply: slots that changed and one reply with buttons.
ANSWER = {
    "events": [
        {"event": "slot", "timestamp": None, "name": "journey_phase", "value": "orientation"},
        {"event": "slot", "timestamp": None, "name": "product", "value": "thuisbatterij"},
        {"event": "slot", "timestamp": None, "name": "reply_counts", "value": {"orientation/price": 1}},
    ],
    "responses": [
        {
            "text": "Een thuisbatterij kost ...",
            "buttons": [{"title": "Offerte", "payload": "/quote_request"}],
            "custom": {},
            "image": None,
            "attachment": None,
            "template": None,
            "response": None,
            "elements": [],
        }
    ],
}


def median_ms(work: Callable[[], object], repeats: int) -> float:
    """The median of `repeats` timings of `work`, after two calls that warm caches up."""
    work()
    work()
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return round(statistics.median(timings) * 1000, 3)


def text_models(model: Path, into: Path) -> list[Path]:
    with tarfile.open(model) as archive:
        archive.extractall(into)
    return sorted(into.rglob("text_model.skops"))


def nlu_rows(model: Path, work: Path, repeats: int) -> list[tuple[str, float, float]]:
    from bot.nlu.text_model import TextModel

    message = ["Wat kost een thuisbatterij bij mijn zonnepanelen?"]
    rows = []
    for path in text_models(model, work / "model"):
        loaded = TextModel.load(path)
        classifier = loaded._pipeline.named_steps["classifier"]
        ours = median_ms(lambda m=loaded: m.rank(message), repeats)
        classifier.coef_ = np.ascontiguousarray(classifier.coef_)  # as scikit-learn trains it
        theirs = median_ms(lambda m=loaded: m.rank(message), repeats)
        name = path.parent.name.split(".")[-1].rstrip("0123456789")
        rows.append((f"{name}: score one message (weights row-major → column-major)", theirs, ours))
    return rows


def answer_rows(repeats: int) -> list[tuple[str, float, float]]:
    from jsonschema import validate, validators

    from bot.action_retry import PatientRemoteAction, answer_error

    spec = PatientRemoteAction.action_response_format_spec()
    whole = validators.validator_for(spec)(spec)  # the whole schema, built once: every event tries all 23
    rasa = median_ms(lambda: validate(ANSWER, spec), repeats)
    built_once = median_ms(lambda: list(whole.iter_errors(ANSWER)), repeats)
    ours = median_ms(lambda: answer_error(ANSWER), repeats)
    return [
        (
            "check an action server answer (Rasa's jsonschema.validate → the schema built once)",
            rasa,
            built_once,
        ),
        (
            "check an action server answer (the schema built once → one event schema per event)",
            built_once,
            ours,
        ),
    ]


def _conversation(store: object, sender: str, messages: int) -> None:
    """`messages` turns as this assistant writes them: user, featurisation, action, reply, slots, listen."""
    from rasa.shared.core.events import (
        ActionExecuted,
        BotUttered,
        DefinePrevUserUtteredFeaturization,
        SessionStarted,
        SlotSet,
        UserUttered,
    )
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker = DialogueStateTracker(sender, store.domain.slots)  # type: ignore[attr-defined]
    for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")):
        tracker.update(event)
    ranking = [{"name": f"intent_{n}", "confidence": 0.1} for n in range(10)]
    for number in range(messages):
        intent = {"name": "price", "confidence": 0.8}
        parse = {"text": f"vraag {number}", "intent": intent, "entities": [], "intent_ranking": ranking}
        tracker.update(UserUttered(f"vraag {number}", intent, [], parse))
        tracker.update(DefinePrevUserUtteredFeaturization(False))
        tracker.update(ActionExecuted("action_journey_reply"))
        tracker.update(
            BotUttered(f"antwoord {number}", {"buttons": [{"title": "Offerte", "payload": "/quote"}]})
        )
        tracker.update(SlotSet("reply_counts", {"orientation/price": number + 1}))
        tracker.update(SlotSet("journey_phase", "orientation"))
        tracker.update(ActionExecuted("action_listen"))
    asyncio.run(store.save(tracker))  # type: ignore[attr-defined]


def tracker_rows(work: Path, repeats: int) -> list[tuple[str, float, float]]:
    from rasa.shared.core.domain import Domain

    from bot.rasa_stores import MaskingSQLTrackerStore, UrlSQLTrackerStore

    os.environ["TRACKER_STORE_URL"] = f"sqlite:///{work / 'tracker.db'}"
    domain = Domain.load(PROJECT_ROOT / "domain.yml")
    ours, theirs = MaskingSQLTrackerStore(domain=domain), UrlSQLTrackerStore(domain=domain)
    rows = []
    for messages in (20, 100):
        sender = f"visitor-{messages}"
        _conversation(ours, sender, messages)
        rasa_ms = median_ms(lambda s=sender: asyncio.run(theirs.retrieve(s)), repeats)
        ours_ms = median_ms(lambda s=sender: asyncio.run(ours.retrieve(s)), repeats)
        label = f"read a conversation of {messages} messages ({messages * 7 + 2} events; Rasa's store → ours)"
        rows.append((label, rasa_ms, ours_ms))
    return rows


def table(rows: list[tuple[str, float, float]]) -> str:
    lines = ["| what | before ms | now ms |", "|---|---|---|"]
    lines += [f"| {label} | {before} | {now} |" for label, before, now in rows]
    return "\n".join(lines)


def main(repeats: int = 200) -> int:
    warnings.filterwarnings("ignore")
    model = latest_model(PROJECT_ROOT / "models")
    if model is None:
        print("error: no trained model in models/: run `make train`", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="journey-micro-") as folder:
        work = Path(folder)
        rows = (
            nlu_rows(model, work, repeats) + answer_rows(repeats) + tracker_rows(work, max(5, repeats // 10))
        )
    print(
        f"`python -m bench.micro` on {model.name}, median of {repeats} runs (tracker reads: {max(5, repeats // 10)})"
    )
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
