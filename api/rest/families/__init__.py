"""Families, people and the Think Family view."""
