"""Rasa NLU components around TextModel: the topic intent and the journey phase of every message.

Both are trained by `rasa train` on the same examples. The topic is the example's intent; the
phase comes from its metadata (`metadata: {phase: aftercare}` on the intent block or the
example), so one topic can be taught in several phases. Loaded by Rasa from config.yml, hence
the Rasa imports here.
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, METADATA, METADATA_EXAMPLE, METADATA_INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.text_model import Ranking, TextModel
from bot.phases import PHASES

logger = logging.getLogger(__name__)
# The phase label of messages that carry no journey position ("ja", "hallo", "ben je een bot?").
NO_PHASE = "none"
PHASE_KEY = "journey_phase"
PHASE_RANKING_KEY = "journey_phase_ranking"
RANKING_LENGTH = 10


def example_phase(message: Message) -> str:
    """The example's own phase, else its intent block's, else none (general intents)."""
    metadata = message.get(METADATA) or {}
    for level in (METADATA_EXAMPLE, METADATA_INTENT):
        phase = (metadata.get(level) or {}).get("phase")
        if phase:
            return str(phase)
    return NO_PHASE


class _TextComponent(GraphComponent):
    """Training, persistence and batch prediction shared by the two classifiers."""

    FILE = "text_model.skops"

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"C": 30.0}

    def __init__(
        self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource, model: TextModel | None
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
    ) -> _TextComponent:
        return cls(config, model_storage, resource, None)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> _TextComponent:
        try:
            with model_storage.read_from(resource) as directory:
                model = TextModel.load(directory / cls.FILE)
        except ValueError:
            logger.warning("%s has no trained model; messages get no reading from it", cls.__name__)
            model = None
        return cls(config, model_storage, resource, model)

    @abstractmethod
    def label(self, message: Message) -> str:
        """The training label of one example."""

    @abstractmethod
    def annotate(self, message: Message, ranking: Ranking) -> None:
        """Put the ranking on the parsed message."""

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        labels = [self.label(m) for m in examples]
        if len(set(labels)) < 2:
            logger.warning("%s: fewer than two labels in the training data, not trained", type(self).__name__)
            return self._resource
        self._model = TextModel(c=float(self._config["C"])).fit([m.get(TEXT) for m in examples], labels)
        with self._storage.write_to(self._resource) as directory:
            self._model.save(directory / self.FILE)
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        if self._model is None:
            return messages
        rankings = self._model.rank([message.get(TEXT) or "" for message in messages])
        for message, ranking in zip(messages, rankings, strict=True):
            self.annotate(message, ranking)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TopicClassifier(_TextComponent):
    """The topic intent (price, payment, malfunction, or a general intent), as Rasa's `intent`."""

    def label(self, message: Message) -> str:
        return str(message.get(INTENT))

    def annotate(self, message: Message, ranking: Ranking) -> None:
        entries = [{"name": name, "confidence": confidence} for name, confidence in ranking[:RANKING_LENGTH]]
        message.set("intent", entries[0], add_to_output=True)
        message.set("intent_ranking", entries, add_to_output=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class PhaseClassifier(_TextComponent):
    """Where the customer stands, learnt from situational cues apart from the topic."""

    def label(self, message: Message) -> str:
        phase = example_phase(message)
        if phase not in PHASES and phase != NO_PHASE:
            raise ValueError(f"unknown phase '{phase}' in NLU metadata; the phases are {list(PHASES)}")
        return phase

    def annotate(self, message: Message, ranking: Ranking) -> None:
        best, confidence = ranking[0]
        phase = None if best == NO_PHASE else best
        message.set(PHASE_KEY, {"name": phase, "confidence": confidence}, add_to_output=True)
        entries = [{"name": name, "confidence": value} for name, value in ranking]
        message.set(PHASE_RANKING_KEY, entries, add_to_output=True)
