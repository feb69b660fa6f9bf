"""Talking to Linear, Airtable, Monday.com and Slack.

One async client per tool, configured by base URL and token only, so the same code talks
to the real API or to the sandbox emulators in :mod:`connectors.sandbox`. This package
knows nothing of Temporal or tracing.
"""
