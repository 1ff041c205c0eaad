"""Process entry, settings, channel adapters and the runtime around the engine."""
