"""The journey-phase classifier itself: plain scikit-learn, no Rasa, so it is tested and evaluated alone.

A message's topic (price, payment, malfunction) says little about where the customer stands; the
words around it do ("al besteld", "sinds de installatie", "voordat ik teken"). Character and word
n-grams weighted by tf-idf carry those cues, including typos and Dutch compounds, and a
logistic regression turns them into calibrated phase probabilities, so the dialogue can weigh
them against what the conversation already knows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_union

# The label of messages that carry no journey position ("ja", "hallo", "ben je een bot?").
NO_PHASE = "none"


@dataclass(frozen=True)
class PhaseGuess:
    phase: str | None  # None: the message carries no phase signal
    confidence: float
    ranking: tuple[tuple[str, float], ...]


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


class PhaseModel:
    """Text → probabilities over the eight phases and `none`."""

    def __init__(self, c: float = 30.0, pipeline: Pipeline | None = None) -> None:
        self._pipeline = pipeline or _pipeline(c)

    def fit(self, texts: Sequence[str], phases: Sequence[str]) -> PhaseModel:
        self._pipeline.fit(list(texts), list(phases))
        return self

    @property
    def phases(self) -> tuple[str, ...]:
        return tuple(str(label) for label in self._pipeline.classes_)

    def guess(self, texts: Sequence[str]) -> list[PhaseGuess]:
        if not texts:
            return []
        labels = self.phases
        guesses = []
        for row in self._pipeline.predict_proba(list(texts)):
            ranking = tuple(
                sorted(zip(labels, (float(p) for p in row), strict=True), key=lambda pair: -pair[1])
            )
            best, confidence = ranking[0]
            guesses.append(PhaseGuess(None if best == NO_PHASE else best, confidence, ranking))
        return guesses

    def save(self, path: Path) -> None:
        import skops.io

        skops.io.dump(self._pipeline, path)

    @classmethod
    def load(cls, path: Path) -> PhaseModel:
        """skops, not pickle: loading checks that the file holds only the scikit-learn types we wrote."""
        import skops.io

        trusted = skops.io.get_untrusted_types(file=path)
        allowed = [name for name in trusted if name.startswith(("sklearn.", "numpy.", "scipy."))]
        return cls(pipeline=skops.io.load(path, trusted=allowed))
