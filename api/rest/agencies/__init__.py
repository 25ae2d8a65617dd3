"""Agencies taking part in the partnership."""
