"""The marketer-facing content model; the JSON schema is generated from these same classes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, StrictBool, conint, conlist, constr

from bot.content.handoff import HandoffSection
from bot.phases import PHASES

MAX_TEXT = 4096  # WhatsApp refuses longer message bodies
MAX_BUTTONS = 10  # a WhatsApp list message holds at most ten rows
MAX_TITLE = 20  # WhatsApp truncates longer reply-button titles
CHANNELS: tuple[str, ...] = ("web", "whatsapp", "sms")
GENERAL_INTENTS: tuple[str, ...] = (
    "greet",
    "goodbye",
    "thanks",
    "affirm",
    "deny",
    "bot_challenge",
    "request_human",
    "out_of_scope",
    "inform_customer_type",
    "give_score",
)
MESSAGE_KEYS: tuple[str, ...] = (
    "fallback",
    "persona_question",
    "clarify",
    "already_owned",
    "unsupported_message",
    "message_too_long",
    "nps_question",
    "nps_retry",
    "nps_give_up",
    "nps_reason_question",
    "nps_thanks_promoter",
    "nps_thanks_passive",
    "nps_thanks_detractor",
    "error",
)
ID_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"

Id = constr(strict=True, regex=ID_PATTERN)
Text = constr(strict=True, min_length=1)
Phrasing = constr(strict=True, min_length=1, max_length=MAX_TEXT)
Channel = Literal["web", "whatsapp", "sms"]
Address = Literal["formal", "informal"]
# The conditions a variant may set, most decisive first: a variant that fits the visitor's phase
# beats one for a subject the message mentions, which beats product, persona, form of address
# (`address`) and channel.
CONDITIONS: tuple[str, ...] = ("phase", "subject", "product", "persona", "address", "channel")


def _phase_enum(*properties: str) -> Any:
    """Editors can offer the eight phase ids although the model checks them itself, with friendlier words."""

    def extra(schema: dict[str, Any], model: type[BaseModel]) -> None:
        for name in properties:
            target = schema["properties"][name]
            (target.get("items") or target)["enum"] = list(PHASES)

    return staticmethod(extra)


class _Strict(BaseModel):
    class Config:
        extra = "forbid"


class ButtonModel(_Strict):
    """A next-step suggestion; sales buttons disappear for visitors who already own the product."""

    title: Text
    payload: Text = Field(..., description="Usually '/<intent>' so a tap counts as that question.")
    sales: StrictBool = False
    product: Id | None = None

    class Config:
        title = "Button"


class Variant(_Strict):
    """One way of answering; every condition it sets must fit the visitor, and the most specific fit wins."""

    phase: Id | None = Field(None, description="Only in this phase (a topic asked in another phase).")
    subject: Id | None = Field(
        None, description="Only when the message mentions this subject (common.yml subjects), e.g. saldering."
    )
    product: Id | None = Field(None, description="Only when the conversation is about this product.")
    persona: Id | None = None
    address: Address | None = Field(None, description="formal = the u-form, informal = the je-form.")
    channel: Channel | None = None
    text: conlist(Phrasing, min_items=1) = Field(
        ..., description="Phrasings; a visitor who asks again gets the next one."
    )
    buttons: conlist(ButtonModel, max_items=MAX_BUTTONS) = Field(
        default_factory=list, description="Replaces the intent's buttons when given."
    )
    experiment: Id | None = Field(
        None,
        description="Test-and-learn: the phrasings are the arms (A, B, ...); each visitor always gets the "
        "same one, and `journey report` shows which moves visitors on best.",
    )

    def conditions(self) -> dict[str, str]:
        """The conditions this variant sets, in CONDITIONS order."""
        return {name: getattr(self, name) for name in CONDITIONS if getattr(self, name) is not None}


class IntentContent(_Strict):
    """Everything the assistant says for one intent or message."""

    label: constr(strict=True, min_length=1, max_length=MAX_TITLE) | None = Field(
        None, description="Short button title when the assistant asks which of two topics was meant."
    )
    replies: list[Variant]
    buttons: conlist(ButtonModel, max_items=MAX_BUTTONS) = Field(default_factory=list)


HandoffSection.update_forward_refs(IntentContent=IntentContent)


class Step(_Strict):
    """A finer stage inside a phase, for reporting; replies do not depend on it."""

    id: Id
    label: Text
    description: Text | None = None


class Phase(_Strict):
    """One of the eight canonical phases; the intents listed here move the visitor to this phase."""

    id: Id
    label: Text
    description: Text
    steps: list[Step] = Field(default_factory=list)
    intents: dict[str, IntentContent]

    class Config:
        schema_extra = _phase_enum("id")


class Journey(_Strict):
    """One audience's path through the eight phases."""

    id: Id
    label: Text
    description: Text
    address: Address = Field(
        "informal",
        description="How its texts address the visitor; formal visitors of an informal journey get the u-form.",
    )
    phases: list[Phase]


class JourneyFile(_Strict):
    """journeys/<journey>.yml"""

    journey: Journey


class Product(_Strict):
    """Something the visitor may already own; its keywords recognise it in messages."""

    id: Id
    label: Text
    keywords: conlist(Text, min_items=1)


class Subject(_Strict):
    """Something visitors ask about across topics (saldering, netcongestie); its keywords spot it."""

    id: Id
    label: Text
    keywords: conlist(Text, min_items=1)


class NpsRules(_Strict):
    """When the assistant may ask for a recommendation score."""

    ask_after_phases: list[Id]
    cooldown_days: conint(strict=True, ge=0)

    class Config:
        schema_extra = _phase_enum("ask_after_phases")


class Rules(_Strict):
    """Business rules that are content decisions, not code."""

    sales_phases: list[Id]
    ask_persona_for: list[Id] = Field(
        default_factory=list,
        description="Topics whose answer differs so much per persona that an unknown persona is asked for.",
    )
    nps: NpsRules

    class Config:
        schema_extra = _phase_enum("sales_phases")


class Rewrite(_Strict):
    """One phrase of the je-form and its u-form, e.g. 'heb je' → 'heeft u'."""

    informal: Text
    formal: Text


class CommonFile(_Strict):
    """journeys/common.yml"""

    general: dict[str, IntentContent]
    products: list[Product]
    subjects: list[Subject] = Field(
        default_factory=list,
        description="Subjects a reply variant can be written for ('subject: saldering'), whatever the topic.",
    )
    rules: Rules
    formal_rewrites: list[Rewrite] = Field(
        default_factory=list, description="Applied in order, on whole words, for visitors who write formally."
    )
    handoff: HandoffSection | None = Field(
        None, description="Callback requests: office hours, moments and texts (bot/content/handoff.py)."
    )


class Recognise(_Strict):
    """Words that reveal the persona in a visitor's message (case and accents do not matter)."""

    keywords: list[Text]


class Persona(_Strict):
    """A recognisable kind of visitor; variants can speak to it in its own tone."""

    id: Id
    name: Text
    description: Text
    tone: Text
    journey: Id
    recognise: Recognise


class PersonasFile(_Strict):
    """journeys/personas.yml"""

    personas: list[Persona]


class ContentFile(BaseModel):
    """Any file in journeys/: a journey, common.yml or personas.yml."""

    __root__: JourneyFile | CommonFile | PersonasFile
