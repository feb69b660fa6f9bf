"""Replay a run from a step, split by role: the plan (pure, reads the store) and the starter."""
