"""Product recognition measured on tests/products/dev.yml: recall on labelled messages, false alarms on the rest.

The keywords in journeys/common.yml are tuned on this set, so it guards against regressions when
someone edits them; it is not a blind measurement.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.content.loader import load_content
from bot.settings import PROJECT_ROOT

DEV_SET = PROJECT_ROOT / "tests" / "products" / "dev.yml"
MIN_RECALL = 0.95
MAX_FALSE_ALARMS = 0.05
MIN_MESSAGES = 250


def _load(path: Path) -> list[tuple[str, list[str]]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [(item["text"], list(item["products"])) for item in data["messages"]]


@pytest.fixture(scope="module")
def messages() -> list[tuple[str, list[str]]]:
    return _load(DEV_SET)


@pytest.fixture(scope="module")
def detections(messages: list[tuple[str, list[str]]]) -> list[list[str]]:
    book = load_content(PROJECT_ROOT / "journeys", PROJECT_ROOT / "domain.yml").book
    return [book.detect_products(text) for text, _ in messages]


def test_dev_set_is_large_and_labelled_with_shipped_product_ids(
    messages: list[tuple[str, list[str]]],
) -> None:
    common = yaml.safe_load((PROJECT_ROOT / "journeys" / "common.yml").read_text(encoding="utf-8"))
    known = {product["id"] for product in common["products"]}
    labelled = {product for _, products in messages for product in products}
    texts = [text for text, _ in messages]
    assert len(messages) >= MIN_MESSAGES
    assert len(set(texts)) == len(texts), "duplicate messages in the dev set"
    assert labelled <= known, f"labels that are no product id: {labelled - known}"
    negatives = sum(1 for _, products in messages if not products)
    assert 0.2 <= negatives / len(messages) <= 0.4, "keep about 30% messages without a product"


def test_recall_on_messages_that_name_products(
    messages: list[tuple[str, list[str]]], detections: list[list[str]]
) -> None:
    positives = [(text, want, got) for (text, want), got in zip(messages, detections, strict=True) if want]
    misses = [(text, want, got) for text, want, got in positives if not set(want) <= set(got)]
    recall = 1 - len(misses) / len(positives)
    report = "\n".join(f"  {text!r}: want {want}, got {got}" for text, want, got in misses)
    assert recall >= MIN_RECALL, f"recall {recall:.3f} < {MIN_RECALL}; misses:\n{report}"


def test_few_false_alarms_on_messages_without_products(
    messages: list[tuple[str, list[str]]], detections: list[list[str]]
) -> None:
    negatives = [(text, got) for (text, want), got in zip(messages, detections, strict=True) if not want]
    alarms = [(text, got) for text, got in negatives if got]
    rate = len(alarms) / len(negatives)
    report = "\n".join(f"  {text!r}: got {got}" for text, got in alarms)
    assert rate <= MAX_FALSE_ALARMS, f"false alarms {rate:.3f} > {MAX_FALSE_ALARMS}:\n{report}"
