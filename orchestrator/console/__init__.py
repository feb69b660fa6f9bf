"""The web console: server-rendered pages over the trace store, every page also as JSON.

:func:`orchestrator.console.app.console_app` builds the ASGI app; ``steptrace console``
serves it; ``steptrace console-link`` prints a sign-in link (see ``docs/console.md``).
"""
