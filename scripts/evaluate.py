"""NLU figures as visitors get them: blind test set, development set, cross-validation.

    python scripts/evaluate.py                  # make eval: train ours and Rasa's default, score both, 5-fold CV
    python scripts/evaluate.py --model M --check   # score one trained model; exit 1 below the gates
    python scripts/evaluate.py --tune           # choose HOME_BONUS on the development set (never the blind set)

Sets: tests/blind/ (written by people who never saw data/nlu/; never tuned on), tests/heldout/
(the development set: tune freely), and folds of data/nlu/ itself. Every parse goes through
bot.understanding, the rule the assistant runs, so a persona statement that carries a question
counts as that question and a phase comes from the situation, not only the topic.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.nlu.datasets import load_blind  # noqa: E402
from bot.nlu.scoring import UNCLEAR, Example, Scores, confusion_table, score  # noqa: E402
from bot.understanding import FALLBACK_INTENT  # noqa: E402

BLIND = ROOT / "tests" / "blind"
DEVELOPMENT = ROOT / "tests" / "heldout" / "nlu.yml"
DEVELOPMENT_UNCLEAR = ROOT / "tests" / "heldout" / "unclear.yml"
TRAINING = ROOT / "data" / "nlu"
DEFAULT_CONFIG = ROOT / "tests" / "eval" / "default_config.yml"
DIET_CONFIG = ROOT / "tests" / "eval" / "diet_config.yml"
# The targets on the blind set.
TARGETS = {"phase_accuracy": 0.90, "intent_macro_f1": 0.85, "product_recall": 0.95}


def rasa_examples(path: Path) -> list[Example]:
    """Rasa NLU YAML with `metadata: {phase: ...}` on blocks or examples (general intents: none)."""
    from rasa.shared.nlu.training_data.loading import load_data

    from bot.nlu.components import example_phase

    examples = []
    for message in load_data(str(path)).intent_examples:
        phase = example_phase(message)
        examples.append(
            Example(message.get("text"), message.get("intent"), None if phase == "none" else phase)
        )
    return examples


PARSE_SECONDS: dict[str, list[float]] = {}


def parse_all(model: Path, texts: Sequence[str]) -> list[dict[str, object]]:
    """Parse one by one, as messages arrive, timing each parse (NLU only, no dialogue)."""
    import structlog
    from rasa.core.agent import Agent

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    agent = Agent.load(str(model))
    timings = PARSE_SECONDS.setdefault(str(model), [])

    async def run() -> list[dict[str, object]]:
        parses = []
        for text in texts:
            started = time.perf_counter()
            parses.append(await agent.parse_message(text))
            timings.append(time.perf_counter() - started)
        return parses

    return asyncio.run(run())


def print_parse_times() -> None:
    for model, seconds in PARSE_SECONDS.items():
        ordered = sorted(seconds)
        p50, p95 = ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.95)]
        print(
            f"NLU parse time {Path(model).name}: p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms ({len(ordered)} parses)"
        )


def train_nlu(config: Path, nlu: Path, out: Path, name: str) -> Path:
    subprocess.run(
        [
            str(Path(sys.executable).parent / "rasa"), "train", "nlu", "--quiet",
            "--config", str(config), "--nlu", str(nlu),
            "--out", str(out), "--fixed-model-name", name, "--num-threads", "2",
        ],
        check=True, cwd=ROOT,
    )  # fmt: skip
    return out / f"{name}.tar.gz"


def book():
    from bot.content import ContentRepository

    return ContentRepository.from_env().current()


def evaluate(name: str, model: Path, examples: Sequence[Example], home: Mapping[str, str]) -> Scores:
    parses = parse_all(model, [e.text for e in examples])
    return score(name, examples, parses, home, book().detect_products)


def folds(k: int, out: Path) -> list[tuple[Path, list[Example]]]:
    """k stratified folds of the training data (by intent and phase), each written as Rasa YAML."""
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.nlu.components import example_phase

    messages = load_data(str(TRAINING)).intent_examples
    groups: dict[tuple[str, str], list[int]] = {}
    for position, message in enumerate(messages):
        groups.setdefault((message.get("intent"), example_phase(message)), []).append(position)
    assignment = [0] * len(messages)
    shuffle = random.Random(42)
    for members in groups.values():
        shuffle.shuffle(members)
        for rank, position in enumerate(members):
            assignment[position] = rank % k
    result = []
    for fold in range(k):
        train = [m for m, a in zip(messages, assignment, strict=True) if a != fold]
        test = [m for m, a in zip(messages, assignment, strict=True) if a == fold]
        path = out / f"fold{fold}.yml"
        path.write_text(TrainingData(training_examples=train).nlu_as_yaml(), encoding="utf-8")
        held = []
        for m in test:
            phase = example_phase(m)
            held.append(Example(m.get("text"), m.get("intent"), None if phase == "none" else phase))
        result.append((path, held))
    return result


def line(scores: Scores) -> str:
    low, high = scores.phase_ci95
    product = "" if scores.product_recall is None else f"{scores.product_recall:>10.3f}"
    return (
        f"{scores.name:<34}{scores.messages:>6}{scores.intent_macro_f1:>10.3f}{scores.intent_accuracy:>9.3f}"
        f"{scores.phase_accuracy:>9.3f}  [{low:.3f}, {high:.3f}]{scores.no_phase_kept:>9.3f}{product}"
    )


def report(rows: list[Scores]) -> None:
    print(f"\n{'set / pipeline':<34}{'n':>6}{'macro-F1':>10}{'int.acc':>9}{'phase':>9}  {'phase 95% CI':<16}"
          f"{'kept':>7}{'product':>10}")  # fmt: skip
    for row in rows:
        print(line(row))
    print("\nmacro-F1 and accuracy of the topic/general intent the assistant answers; phase = accuracy on")
    print("messages with a phase; kept = general/unclear messages that left the phase alone;")
    print("product = messages naming a product whose products were all recognised.")


def check(scores: Scores) -> list[str]:
    misses = []
    for metric, target in TARGETS.items():
        value = getattr(scores, metric)
        if value is not None and value < target:
            misses.append(f"{metric} {value:.3f} < {target}")
    return misses


def development_examples() -> list[Example]:
    """The development set: tests/heldout/nlu.yml plus the unclear messages of unclear.yml."""
    import yaml

    unclear = yaml.safe_load(DEVELOPMENT_UNCLEAR.read_text(encoding="utf-8"))["messages"]
    return rasa_examples(DEVELOPMENT) + [Example(str(text), UNCLEAR, None) for text in unclear]


def refallback(parse: Mapping[str, object], threshold: float, ambiguity: float) -> dict[str, object]:
    """The parse as Rasa's FallbackClassifier with these thresholds would have left it."""
    ranking = [e for e in parse.get("intent_ranking") or [] if e["name"] != FALLBACK_INTENT]
    top = ranking[0]["confidence"] if ranking else 0.0
    second = ranking[1]["confidence"] if len(ranking) > 1 else 0.0
    unsure = top < threshold or top - second < ambiguity
    intent = {"name": FALLBACK_INTENT, "confidence": 1 - top} if unsure else dict(ranking[0])
    return {**parse, "intent": intent, "intent_ranking": ranking}


def tune(model: Path) -> None:
    """The thresholds of the fallback and of bot.understanding, on the development set only.

    The parses are computed once; the fallback and the rule are replayed for every combination.
    """
    import itertools

    import bot.understanding as understanding

    home = book().home_phases
    examples = development_examples()
    parses = parse_all(model, [e.text for e in examples])
    results = []
    grid = itertools.product(
        (0.1, 0.15, 0.2, 0.25, 0.3), (0.0, 0.02, 0.05), (0.0, 0.1, 0.2, 0.3), (0.5, 0.6, 0.7, 2.0)
    )
    for threshold, ambiguity, bonus, phase_min in grid:
        understanding.HOME_BONUS, understanding.FALLBACK_PHASE_MIN = bonus, phase_min
        replayed = [refallback(parse, threshold, ambiguity) for parse in parses]
        result = score("dev", examples, replayed, home)
        results.append(
            (result.phase_accuracy + result.intent_macro_f1, threshold, ambiguity, bonus, phase_min, result)
        )
    print(f"{'threshold':>10}{'ambig':>7}{'home':>6}{'fb-phase':>9}{'phase':>8}{'macroF1':>9}{'unclear':>9}")
    for _total, threshold, ambiguity, bonus, phase_min, result in sorted(results, key=lambda r: -r[0]):
        print(f"{threshold:>10}{ambiguity:>7}{bonus:>6}{phase_min:>9}{result.phase_accuracy:>8.3f}"
              f"{result.intent_macro_f1:>9.3f}{result.unclear_fallback:>9.3f}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="score this trained model only")
    parser.add_argument("--check", action="store_true", help="exit 1 when the blind set misses a target")
    parser.add_argument("--tune", action="store_true", help="tune on the development set (needs --model)")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (0: none)")
    parser.add_argument("--json", type=Path, help="also write the scores to this file")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if args.tune:
        tune(args.model)
        return 0
    home = book().home_phases
    blind, development = load_blind(BLIND), development_examples()
    rows: list[Scores] = []
    if args.model:
        models = [("ours", args.model)]
    else:
        out = Path(tempfile.mkdtemp(prefix="journey-eval-"))
        models = [
            ("ours", train_nlu(ROOT / "config.yml", TRAINING, out, "project")),
            ("rasa default", train_nlu(DEFAULT_CONFIG, TRAINING, out, "default")),
            ("DIET + phase classifier", train_nlu(DIET_CONFIG, TRAINING, out, "diet")),
        ]
    for name, model in models:
        rows.append(evaluate(f"blind / {name}", model, blind, home))
    for name, model in models:
        rows.append(evaluate(f"development / {name}", model, development, home))
    if not args.model and args.folds:
        out = Path(tempfile.mkdtemp(prefix="journey-cv-"))
        held_all: list[Example] = []
        parses: list[dict[str, object]] = []
        for number, (path, held) in enumerate(folds(args.folds, out)):
            model = train_nlu(ROOT / "config.yml", path, out, f"fold{number}")
            parses += parse_all(model, [e.text for e in held])
            held_all += held
        rows.append(score(f"{args.folds}-fold CV / ours", held_all, parses, home))
    report(rows)
    print_parse_times()
    for row in rows[:1]:
        print(f"\nPhase confusion, {row.name} (rows: true phase, columns: assistant's phase; - = none)")
        print(confusion_table(row))
    ours = rows[0]
    misses = check(ours)
    print("\nBlind-set targets (phase >= 0.90, macro-F1 >= 0.85, product >= 0.95): "
          + ("met" if not misses else "NOT met: " + "; ".join(misses)))  # fmt: skip
    if not args.model:
        default = rows[1]
        ahead = (
            ours.phase_accuracy > default.phase_accuracy and ours.intent_macro_f1 > default.intent_macro_f1
        )
        print(f"Ahead of Rasa's default pipeline on the blind set: {'yes' if ahead else 'NO'}")
    if args.json:
        args.json.write_text(json.dumps([asdict(row) for row in rows], indent=2), encoding="utf-8")
    return 1 if args.check and misses else 0


if __name__ == "__main__":
    sys.exit(main())
