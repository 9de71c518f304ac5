"""The text classifier keeps its weights laid out for scoring one message at a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bot.nlu.text_model import TextModel

TEXTS = [
    "wat kost een thuisbatterij",
    "prijs van zonnepanelen",
    "mijn warmtepomp maakt lawaai",
    "storing aan de omvormer",
    "wanneer komt de monteur",
    "is de installatie al gepland",
]
LABELS = ["price", "price", "malfunction", "malfunction", "planning", "planning"]


def _weights(model: TextModel) -> np.ndarray:
    return model._pipeline.named_steps["classifier"].coef_


def test_weights_are_column_major_after_fit_and_after_loading(tmp_path: Path) -> None:
    model = TextModel(c=10).fit(TEXTS, LABELS)
    assert _weights(model).T.flags["C_CONTIGUOUS"]
    model.save(tmp_path / "model.skops")
    loaded = TextModel.load(tmp_path / "model.skops")
    assert _weights(loaded).T.flags["C_CONTIGUOUS"]
    assert loaded.rank(["kost een batterij veel"]) == model.rank(["kost een batterij veel"])


def test_the_layout_does_not_change_a_probability() -> None:
    model = TextModel(c=10).fit(TEXTS, LABELS)
    messages = ["wat kost dat", "de monteur is niet gekomen", "storing"]
    column_major = model.rank(messages)
    classifier = model._pipeline.named_steps["classifier"]
    classifier.coef_ = np.ascontiguousarray(classifier.coef_)
    assert not classifier.coef_.T.flags["C_CONTIGUOUS"]
    assert model.rank(messages) == column_major
