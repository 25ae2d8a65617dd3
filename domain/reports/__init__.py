"""Read-only reports for the pages: dashboard figures, process heatmaps and the instance view."""
