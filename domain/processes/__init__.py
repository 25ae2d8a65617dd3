"""Process definitions, versions, instances, task rows and timers."""
