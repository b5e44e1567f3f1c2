"""AI features: providers (offline and OpenAI), sentiment and mood, escalation."""
