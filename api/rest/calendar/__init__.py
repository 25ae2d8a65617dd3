"""Working-day calendar: due dates, holidays, closures, corrections and coverage."""
