"""Handoff to a person: callback requests (form answers, storage, outbox delivery) and live handover."""
