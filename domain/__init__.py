"""Framework-free domain: families, people, agencies, processes, meetings, escalations, audit."""
