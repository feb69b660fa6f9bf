"""Tiered escalation of a failed run, split by role: model, workflow, activities, starter."""
