"""Rasa NLU component around PhaseModel: adds `journey_phase` and its ranking to every parsed message.

Trained by `rasa train` on the same examples as the topic intents; an example's phase comes from
its metadata (`metadata: {phase: aftercare}` on the intent block or on the example), so one topic
can be taught in several phases. Loaded by Rasa from config.yml, hence the Rasa imports here.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import METADATA, METADATA_EXAMPLE, METADATA_INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.phase_model import NO_PHASE, PhaseModel
from bot.phases import PHASES

logger = logging.getLogger(__name__)
PHASE_KEY = "journey_phase"
RANKING_KEY = "journey_phase_ranking"
_FILE = "phase_model.skops"


def example_phase(message: Message) -> str:
    """The example's own phase, else its intent block's, else none (general intents)."""
    metadata = message.get(METADATA) or {}
    for level in (METADATA_EXAMPLE, METADATA_INTENT):
        phase = (metadata.get(level) or {}).get("phase")
        if phase:
            return str(phase)
    return NO_PHASE


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class PhaseClassifier(GraphComponent):
    """Where the customer stands, learnt from situational cues apart from the topic."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"C": 30.0}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: PhaseModel | None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> PhaseClassifier:
        return cls(config, model_storage, resource, None)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> PhaseClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                model = PhaseModel.load(directory / _FILE)
        except ValueError:
            logger.warning("no trained phase model in this Rasa model; messages get no journey_phase")
            model = None
        return cls(config, model_storage, resource, model)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        phases = [example_phase(m) for m in examples]
        unknown = sorted({p for p in phases if p not in PHASES and p != NO_PHASE})
        if unknown:
            raise ValueError(f"unknown phase(s) in NLU metadata: {unknown}; the phases are {list(PHASES)}")
        if len(set(phases)) < 2:
            logger.warning("fewer than two phases in the training data; the phase classifier is not trained")
            return self._resource
        self._model = PhaseModel(c=float(self._config["C"])).fit([m.get(TEXT) for m in examples], phases)
        with self._storage.write_to(self._resource) as directory:
            self._model.save(directory / _FILE)
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        if self._model is None:
            return messages
        texts = [message.get(TEXT) or "" for message in messages]
        for message, guess in zip(messages, self._model.guess(texts), strict=True):
            message.set(PHASE_KEY, {"name": guess.phase, "confidence": guess.confidence}, add_to_output=True)
            ranking = [{"name": name, "confidence": confidence} for name, confidence in guess.ranking]
            message.set(RANKING_KEY, ranking, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
