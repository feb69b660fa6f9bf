"""The configuration's one error."""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration that cannot work; the message names the key and the way out."""
