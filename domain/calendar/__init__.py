"""The working-day calendar: bank holidays from the holidays library plus local closures."""
