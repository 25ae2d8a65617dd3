"""Users, credentials and access tokens."""
