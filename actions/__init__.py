"""Thin Rasa custom actions: each turns the tracker into a call to the journey engine in `bot/`."""
