"""One validated, immutable snapshot of all journey content; the actions only ever read from it."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from bot.content.crosscheck import DEFAULT_JOURNEY
from bot.content.formal import FormalRewriter
from bot.content.handoff import HandoffSection
from bot.content.model import CommonFile, IntentContent, Journey, Persona
from bot.content.products import COMPOUND_MIN, ProductMatcher
from bot.content.select import Reply, Situation, build_reply, keyword_pattern, normalise

# Words that do not say who the visitor is: ZonWarmte's business ("is uw bedrijf erkend?"), another
# company ("panelen van een ander bedrijf") or a denial ("geen bedrijf", "niet voor mijn zaak").
_ADDRESSED = re.compile(
    r"(?<!\w)(?:uw|jullie|jouw|je|ander|andere|geen|niet(?:\s+voor)?(?:\s+(?:een|mijn|ons|onze))?)\s+\w+"
)


class JourneyBook:
    def __init__(self, journeys: dict[str, Journey], common: CommonFile, personas: list[Persona]) -> None:
        self._journeys = journeys
        self._common = common
        self._personas = {persona.id: persona for persona in personas}
        self._intents: dict[str, dict[str, tuple[str, IntentContent]]] = {
            journey_id: {
                intent: (phase.id, content)
                for phase in journey.phases
                for intent, content in phase.intents.items()
            }
            for journey_id, journey in journeys.items()
        }
        self._phase_of = {
            intent: phase for intents in self._intents.values() for intent, (phase, _) in intents.items()
        }
        self._persona_patterns = self._patterns((p.id, p.recognise.keywords) for p in personas)
        self._products = ProductMatcher((p.id, p.keywords) for p in common.products)
        self._subjects = ProductMatcher((s.id, s.keywords) for s in common.subjects)
        self._persona_compounds = ProductMatcher(
            (p.id, [k for k in p.recognise.keywords if len(k) >= COMPOUND_MIN and " " not in k])
            for p in personas
        )
        self.formal = FormalRewriter((r.informal, r.formal) for r in common.formal_rewrites)
        self._informal = {
            journey_id for journey_id, journey in journeys.items() if journey.address == "informal"
        }

    @staticmethod
    def _patterns(entries: Iterable[tuple[str, list[str]]]) -> list[tuple[str, re.Pattern[str]]]:
        compiled = []
        for entry_id, keywords in entries:
            pattern = keyword_pattern(keywords)
            if pattern is not None:
                compiled.append((entry_id, pattern))
        return compiled

    @property
    def journey_ids(self) -> tuple[str, ...]:
        return tuple(self._journeys)

    @property
    def persona_ids(self) -> tuple[str, ...]:
        return tuple(self._personas)

    @property
    def sales_phases(self) -> frozenset[str]:
        return frozenset(self._common.rules.sales_phases)

    @property
    def nps_ask_after_phases(self) -> frozenset[str]:
        return frozenset(self._common.rules.nps.ask_after_phases)

    @property
    def nps_cooldown_days(self) -> int:
        return self._common.rules.nps.cooldown_days

    @property
    def handoff(self) -> HandoffSection | None:
        """The callback and live-handover section of common.yml (bot.handoff), if the content has one."""
        return self._common.handoff

    def journey_address(self, persona: str | None) -> str | None:
        """How the persona's journey addresses visitors ("formal", "informal"), None if it has no journey."""
        journey = self._journeys.get(self.journey_for(persona))
        return None if journey is None else journey.address

    def phase_of(self, intent: str) -> str | None:
        """The topic's home phase: where its content sits, and its phase when nothing says otherwise."""
        return self._phase_of.get(intent)

    @property
    def home_phases(self) -> dict[str, str]:
        return dict(self._phase_of)

    def asks_persona_for(self, intent: str) -> bool:
        """Only for topics whose answer really differs between home, business and VvE (common.yml rules)."""
        return intent in self._common.rules.ask_persona_for

    def journey_for(self, persona: str | None) -> str:
        """A persona from an older content version may be gone; its visitor then gets the default journey."""
        known = self._personas.get(persona or "")
        if known is not None and known.journey in self._journeys:
            return known.journey
        return DEFAULT_JOURNEY

    def detect_persona(self, text: str) -> str | None:
        """The longest whole keyword wins ('vereniging van eigenaren' beats 'eigenaren'); without one, a
        long keyword inside a compound counts ('autoschadebedrijf' is a business)."""
        plain = _ADDRESSED.sub(" ", normalise(text))
        best: tuple[int, str] | None = None
        for persona_id, pattern in self._persona_patterns:
            length = max((len(match.group()) for match in pattern.finditer(plain)), default=0)
            if length and (best is None or length > best[0]):
                best = (length, persona_id)
        if best:
            return best[1]
        compounds = self._persona_compounds.find(plain)
        return compounds[0] if compounds else None

    def detect_products(self, text: str) -> list[str]:
        """Products named in the text, in the order they are first named."""
        return self._products.find(text)

    def asked_products(self, text: str, owned: Collection[str] = ()) -> list[str]:
        """Products the message asks about: named ones less those the visitor says they have."""
        return self._products.focus(text, owned)

    def detect_subject(self, text: str) -> str | None:
        """The first subject of common.yml the message mentions (saldering, netcongestie), if any."""
        found = self._subjects.find(text)
        return found[0] if found else None

    def only_products(self, text: str) -> bool:
        return self._products.only_products(text)

    def label(self, intent: str, journey_id: str) -> str | None:
        """The short title of a topic, for the button when the assistant asks which topic was meant."""
        located = self._locate(intent, journey_id)
        return located[2].label if located else None

    def _locate(self, intent: str, journey_id: str) -> tuple[str, str, IntentContent] | None:
        for candidate in (journey_id, DEFAULT_JOURNEY):
            found = self._intents.get(candidate, {}).get(intent)
            if found is not None:
                return candidate, found[0], found[1]
        return None

    def reply(
        self,
        intent: str,
        situation: Situation,
        *,
        journey_id: str,
        owned_products: Collection[str] = (),
        seen: int = 0,
    ) -> Reply | None:
        """The topic's reply for this situation; the topic's content sits in its home phase."""
        located = self._locate(intent, journey_id)
        if located is None:
            return None
        found_journey, phase, content = located
        selling = situation.phase is None or situation.phase in self.sales_phases
        return build_reply(
            f"{found_journey}/{phase}/{intent}",
            content,
            situation,
            owned_products=owned_products,
            seen=seen,
            selling=selling,
            formal=self.formal if found_journey in self._informal else None,
        )

    def message(self, key: str, situation: Situation, *, seen: int = 0) -> Reply:
        """General intents and fixed messages from common.yml; an unknown key is a programming error."""
        content = self._common.general.get(key)
        if content is None:
            raise KeyError(f"common.yml has no general entry '{key}'")
        selling = situation.phase is None or situation.phase in self.sales_phases
        # Every visitor who writes formally gets the u-form here too: thanks, goodbye, NPS, fallback.
        return build_reply(
            f"general/{key}",
            content,
            situation,
            owned_products=(),
            seen=seen,
            selling=selling,
            formal=self.formal,
        )
