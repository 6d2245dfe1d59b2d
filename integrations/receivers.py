"""Reactions to incident events (connected in IntegrationsConfig.ready)."""
