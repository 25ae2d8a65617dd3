"""Families (households), people and the Think Family view."""
