"""Intent macro-F1 and phase accuracy on the held-out set, for our pipeline and Rasa's default.

    python scripts/evaluate.py                     # train both NLU models, compare (make eval)
    python scripts/evaluate.py --model models/x.tar.gz --check   # score one trained model, fail below target

The held-out set (tests/heldout/nlu.yml) is never used for training. A message's phase is the
phase its intent maps to in the journey content; a predicted general intent or a fallback has
no phase and counts as wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HELDOUT = ROOT / "tests" / "heldout" / "nlu.yml"
TARGETS = {"phase_accuracy": 0.92, "intent_macro_f1": 0.90}
NO_PHASE = "-"


@dataclass
class Scores:
    name: str
    intent_macro_f1: float
    intent_accuracy: float
    phase_accuracy: float
    phase_messages: int
    messages: int
    phase_confusion: dict[str, dict[str, int]]


def heldout_examples(path: Path) -> list[tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(message.get("text"), message.get("intent")) for message in data.intent_examples]


def predict(model: Path, texts: list[str]) -> list[str]:
    import structlog
    from rasa.core.agent import Agent

    # Rasa logs every parse at debug level through structlog; the report is what matters here.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    agent = Agent.load(str(model))

    async def parse_all() -> list[str]:
        return [(await agent.parse_message(text))["intent"]["name"] for text in texts]

    return asyncio.run(parse_all())


def score(name: str, gold: list[str], predicted: list[str]) -> Scores:
    from sklearn.metrics import f1_score

    from bot.content import ContentRepository

    book = ContentRepository.from_env().current()
    labels = sorted(set(gold))
    gold_phases = [book.phase_of(intent) for intent in gold]
    pairs = [(g, book.phase_of(p) or NO_PHASE) for g, p in zip(gold_phases, predicted, strict=True) if g]
    confusion: dict[str, dict[str, int]] = {}
    for expected, got in pairs:
        confusion.setdefault(expected, {}).setdefault(got, 0)
        confusion[expected][got] += 1
    return Scores(
        name=name,
        intent_macro_f1=float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)),
        intent_accuracy=sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold),
        phase_accuracy=sum(expected == got for expected, got in pairs) / len(pairs),
        phase_messages=len(pairs),
        messages=len(gold),
        phase_confusion=confusion,
    )


def train_nlu(config: Path, out: Path, name: str) -> Path:
    subprocess.run(
        [
            str(Path(sys.executable).parent / "rasa"), "train", "nlu", "--quiet",
            "--config", str(config), "--nlu", str(ROOT / "data" / "nlu"),
            "--out", str(out), "--fixed-model-name", name, "--num-threads", "2",
        ],
        check=True,
        cwd=ROOT,
    )  # fmt: skip
    return out / f"{name}.tar.gz"


def print_confusion(scores: Scores) -> None:
    from bot.phases import PHASES

    columns = [*PHASES, NO_PHASE]
    print(f"\nPhase confusion matrix, {scores.name} (rows: true phase, columns: predicted)")
    print(f"{'':>14}" + "".join(f"{column[:6]:>7}" for column in columns))
    for phase in PHASES:
        row = scores.phase_confusion.get(phase, {})
        print(f"{phase:>14}" + "".join(f"{row.get(column, 0):>7}" for column in columns))


def report(all_scores: list[Scores]) -> bool:
    print(f"\nHeld-out set: {all_scores[0].messages} messages, {all_scores[0].phase_messages} with a phase")
    print(f"{'pipeline':<22}{'intent macro-F1':>17}{'intent acc':>12}{'phase acc':>11}")
    for scores in all_scores:
        print(
            f"{scores.name:<22}{scores.intent_macro_f1:>17.3f}{scores.intent_accuracy:>12.3f}{scores.phase_accuracy:>11.3f}"
        )
    for scores in all_scores:
        print_confusion(scores)
    ours = all_scores[0]
    met = all(getattr(ours, metric) >= target for metric, target in TARGETS.items())
    ahead = all(
        ours.intent_macro_f1 >= other.intent_macro_f1 and ours.phase_accuracy >= other.phase_accuracy
        for other in all_scores[1:]
    )
    print(f"\nTargets (phase accuracy >= {TARGETS['phase_accuracy']}, intent macro-F1 >= {TARGETS['intent_macro_f1']}): "
          f"{'met' if met else 'NOT met'}")  # fmt: skip
    if len(all_scores) > 1:
        print(f"Project pipeline ahead of the default pipeline: {'yes' if ahead else 'NO'}")
    return met and ahead


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="score this trained model only")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is not met")
    parser.add_argument("--json", type=Path, help="also write the scores to this file")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, str(ROOT))
    examples = heldout_examples(HELDOUT)
    texts, gold = [text for text, _ in examples], [intent for _, intent in examples]
    if args.model:
        models = [("project (given model)", args.model)]
    else:
        out = Path(tempfile.mkdtemp(prefix="journey-eval-"))
        models = [
            ("project config.yml", train_nlu(ROOT / "config.yml", out, "project")),
            ("rasa default", train_nlu(ROOT / "tests" / "eval" / "default_config.yml", out, "default")),
        ]
    all_scores = [score(name, gold, predict(model, texts)) for name, model in models]
    ok = report(all_scores)
    if args.json:
        args.json.write_text(json.dumps([asdict(scores) for scores in all_scores], indent=2))
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
