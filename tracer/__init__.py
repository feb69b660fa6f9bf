"""Capture, store, diff, localize and explain; knows nothing of the four tools."""
