"""The timer worker: claim due instances, fire their timers exactly once, retry, raise incidents."""
