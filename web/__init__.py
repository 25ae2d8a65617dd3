"""ThinkFamily web pages: templates, assets, the task-form renderer."""
