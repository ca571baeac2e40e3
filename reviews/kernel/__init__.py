"""The small kernel every feature folder shares: database, errors, auth, background work, settings."""
