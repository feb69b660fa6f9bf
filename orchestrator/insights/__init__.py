"""Insights reports: the ``steptrace insights`` command's text, Markdown and JSON, the
spec defaults the analysis should watch, and the Slack digest (analysis: tracer.insights)."""
