"""Understanding beyond the topic intent: where in the journey a message puts the customer."""
