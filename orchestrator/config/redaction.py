"""The redaction policy from the environment: light, so that reading commands, which
need only this of the configuration, do not load pydantic-settings."""

from __future__ import annotations

from collections.abc import Mapping

from orchestrator.config.errors import ConfigError
from tracer.detectors import PII_KINDS, PiiKind
from tracer.redaction import DEFAULT_SECRET_KEYS, RedactionPolicy


def redaction_from_env(env: Mapping[str, str]) -> RedactionPolicy:
    """The redaction policy: the defaults plus ``STEPTRACE_REDACT_KEYS`` / ``_PATHS`` / ``_PII``.

    ``STEPTRACE_REDACT_PII=email,phone`` treats e-mail addresses and phone numbers as
    secrets; ``STEPTRACE_PHONE_REGION`` (default ``US``) says how national numbers look.
    """
    pii: list[PiiKind] = []
    for kind in _csv(env.get("STEPTRACE_REDACT_PII", "")):
        if kind not in PII_KINDS:
            raise ConfigError(
                f"STEPTRACE_REDACT_PII: unknown kind {kind!r} (known: {', '.join(PII_KINDS)})"
            )
        pii.append(kind)
    return RedactionPolicy(
        keys=DEFAULT_SECRET_KEYS | frozenset(_csv(env.get("STEPTRACE_REDACT_KEYS", ""))),
        paths=tuple(_csv(env.get("STEPTRACE_REDACT_PATHS", ""))),
        pii=frozenset(pii),
        phone_region=env.get("STEPTRACE_PHONE_REGION", "US").upper(),
    )


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]
