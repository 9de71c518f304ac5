"""The eight canonical journey phases (seed 002), in journey order."""

from __future__ import annotations

PHASES: tuple[str, ...] = (
    "need",
    "orientation",
    "consideration",
    "decision",
    "purchase",
    "delivery",
    "use",
    "aftercare",
)

DUTCH_LABELS: dict[str, str] = {
    "need": "Behoefte",
    "orientation": "Oriëntatie",
    "consideration": "Overweging",
    "decision": "Beslismoment",
    "purchase": "Aankoop",
    "delivery": "Levering",
    "use": "Gebruik",
    "aftercare": "Nazorg",
}

SERVICE_PHASES: frozenset[str] = frozenset({"delivery", "use", "aftercare"})


def phase_index(phase: str) -> int:
    """Position in the journey, so callers can tell moving forward from moving back."""
    return PHASES.index(phase)
