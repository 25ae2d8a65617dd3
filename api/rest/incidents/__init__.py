"""Timer incidents: list and retry."""
