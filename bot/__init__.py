"""The journey engine: a plain library that the Rasa actions and channels call into."""
