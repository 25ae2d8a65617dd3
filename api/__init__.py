"""HTTP adapters. Keep this module free of imports (see create_app in api.app)."""
