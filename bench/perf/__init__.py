"""`make bench` (issue 14): this assistant side by side with a plain Rasa bot, over REST, on this machine."""
