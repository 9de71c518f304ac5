"""The text classifier behind both NLU readings: plain scikit-learn, no Rasa, so it is tested alone.

A message's topic and the customer's situation are both carried by words and word pieces:
"al besteld", "sinds de installatie", "factuur", and the typos and Dutch compounds around
them. Tf-idf over character 2–5-grams and word 1–2-grams captures those, and a logistic
regression turns them into calibrated probabilities, which the dialogue weighs against what
the conversation already knows. It trains in seconds, where a transformer needs minutes, and
scored as well on the development set (README, "Evaluation").
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_union

Ranking = tuple[tuple[str, float], ...]


def _pipeline(c: float) -> Pipeline:
    features = make_union(
        TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, strip_accents="unicode", lowercase=True
        ),
        TfidfVectorizer(
            analyzer="word",
            ngram_range=(1, 2),
            sublinear_tf=True,
            strip_accents="unicode",
            lowercase=True,
            token_pattern=r"(?u)\b\w+\b",
        ),
    )
    classifier = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
    return Pipeline([("features", features), ("classifier", classifier)])


class TextModel:
    """Text → probabilities over labels (topic intents, or the phases and `none`)."""

    def __init__(self, c: float = 30.0, pipeline: Pipeline | None = None) -> None:
        self._pipeline = pipeline or _pipeline(c)
        self._lay_out_for_prediction()

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> TextModel:
        self._pipeline.fit(list(texts), list(labels))
        self._lay_out_for_prediction()
        return self

    def _lay_out_for_prediction(self) -> None:
        """Keep the weights column-major, so predicting one message does not copy them all.

        scikit-learn scores a sparse message against `coef_.T`; scipy multiplies a sparse matrix
        only by a C-ordered dense one and copies any other (labels x 54,000 floats, per message).
        Column-major weights make `coef_.T` C-ordered: the same numbers, 1-2 ms less per message.
        """
        classifier = self._pipeline.named_steps["classifier"]
        if hasattr(classifier, "coef_"):
            classifier.coef_ = np.asfortranarray(classifier.coef_)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(str(label) for label in self._pipeline.classes_)

    def rank(self, texts: Sequence[str]) -> list[Ranking]:
        """Per text, every label with its probability, most likely first."""
        if not texts:
            return []
        labels = self.labels
        return [
            tuple(sorted(zip(labels, (float(p) for p in row), strict=True), key=lambda pair: -pair[1]))
            for row in self._pipeline.predict_proba(list(texts))
        ]

    def save(self, path: Path) -> None:
        import skops.io

        skops.io.dump(self._pipeline, path)

    @classmethod
    def load(cls, path: Path) -> TextModel:
        """skops, not pickle: loading checks that the file holds only the scikit-learn types we wrote."""
        import skops.io

        untrusted = skops.io.get_untrusted_types(file=path)
        allowed = [name for name in untrusted if name.startswith(("sklearn.", "numpy.", "scipy."))]
        return cls(pipeline=skops.io.load(path, trusted=allowed))
