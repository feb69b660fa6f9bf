"""Runs that start by themselves: the tools' webhooks and the specs' schedules."""
