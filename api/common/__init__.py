"""Flask glue shared by the REST API and the web pages."""
