"""Value detectors: credentials and personal data found inside any text.

Each detector is a regular expression for one credential format (cloud keys, payment
keys, AI providers, Slack, GitHub, JWTs, PEM private keys, passwords in URLs…) with the
reason its marker gives. :func:`scan_text` replaces just the secret part of a match by
``"[redacted: <reason>]"`` and returns what it replaced, so the caller can remember the
secret (taint) and find it again where it reappears in other shapes.

Personal data is opt-in (``pii`` kinds): e-mail addresses by a regular expression, phone
numbers by ``phonenumbers`` (Google's libphonenumber): phone formats differ by country and
a hand-written pattern either misses them or eats every long number; the library only
accepts numbers that are valid for their region.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Literal

__all__ = ["PII_KINDS", "Found", "PiiKind", "scan_text"]

PiiKind = Literal["email", "phone"]
PII_KINDS: tuple[PiiKind, ...] = ("email", "phone")

MARKER_PREFIX = "[redacted:"


@dataclass(frozen=True, slots=True)
class Found:
    """One replaced substring: why, and the secret itself (kept in memory only)."""

    reason: str
    secret: str


@dataclass(frozen=True)
class _Detector:
    reason: str
    regex: re.Pattern[str]
    group: int = 0
    accept: Callable[[str], bool] | None = None
    hints: tuple[str, ...] = ()
    """Lower-case literals one of which a match must contain: the regex runs only then."""


def _entropy(text: str) -> float:
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _looks_random(text: str) -> bool:
    return len(text) >= 12 and _entropy(text) >= 3.0


def _bearer_ok(token: str) -> bool:
    return any(ch.isdigit() for ch in token) or len(token) >= 24


def _d(
    reason: str,
    pattern: str,
    group: int = 0,
    accept: Callable[[str], bool] | None = None,
    *,
    hints: tuple[str, ...],
) -> _Detector:
    return _Detector(reason, re.compile(pattern, re.S), group, accept, hints)


# Order matters where formats nest: the specific provider before the generic shape
# (Anthropic's sk-ant- before OpenAI's sk-, a JWT before a bearer token).
_DETECTORS: tuple[_Detector, ...] = (
    _d(
        "private key",
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----",
        hints=("private key",),
    ),
    _d("Slack token", r"\bxox[abposrec]-[A-Za-z0-9-]{8,}", hints=("xox",)),
    _d("Slack app token", r"\bxapp-[A-Za-z0-9-]{8,}", hints=("xapp-",)),
    _d(
        "Slack webhook URL",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9/_-]{16,})",
        1,
        hints=("hooks.slack",),
    ),
    _d("Linear API key", r"\blin_(?:api|oauth)_[A-Za-z0-9]{16,}", hints=("lin_",)),
    _d("Airtable token", r"\bpat[A-Za-z0-9]{10,}\.[A-Za-z0-9]{16,}", hints=("pat",)),
    _d(
        "Airtable API key",
        r"\bkey(?=[A-Za-z]*\d)(?=[a-z0-9]*[A-Z])[A-Za-z0-9]{14}\b",
        hints=("key",),
    ),
    _d(
        "GitHub token",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{20,})",
        hints=("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    _d("GitLab token", r"\bglpat-[A-Za-z0-9_-]{20,}", hints=("glpat-",)),
    _d("AWS access key id", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", hints=("akia", "asia")),
    _d(
        "AWS secret access key",
        r"(?i)aws_?secret_?(?:access_?)?key\W{0,4}([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])",
        1,
        hints=("aws",),
    ),
    _d("Google API key", r"\bAIza[0-9A-Za-z_-]{35}", hints=("aiza",)),
    _d("Google OAuth token", r"\bya29\.[0-9A-Za-z_-]{20,}", hints=("ya29.",)),
    _d("Google OAuth client secret", r"\bGOCSPX-[0-9A-Za-z_-]{20,}", hints=("gocspx-",)),
    _d(
        "Azure storage key",
        r"(?i)AccountKey=([A-Za-z0-9+/]{40,}={0,2})",
        1,
        hints=("accountkey=",),
    ),
    _d("Azure SAS signature", r"[?&]sig=([A-Za-z0-9%+/]{20,}={0,2})", 1, hints=("sig=",)),
    _d(
        "Azure client secret",
        r"(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}",
        hints=("q~",),
    ),
    _d(
        "Stripe secret key",
        r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}",
        hints=("sk_", "rk_"),
    ),
    _d("Stripe webhook secret", r"\bwhsec_[0-9A-Za-z]{24,}", hints=("whsec_",)),
    _d("Anthropic API key", r"\bsk-ant-[A-Za-z0-9_-]{20,}", hints=("sk-ant-",)),
    _d(
        "OpenAI API key",
        r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",
        hints=("sk-",),
    ),
    _d("Hugging Face token", r"\bhf_[A-Za-z0-9]{30,}", hints=("hf_",)),
    _d(
        "SendGrid API key",
        r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}",
        hints=("sg.",),
    ),
    _d("npm token", r"\bnpm_[A-Za-z0-9]{36,}", hints=("npm_",)),
    _d("PyPI token", r"\bpypi-AgE[A-Za-z0-9_-]{50,}", hints=("pypi-",)),
    _d(
        "JWT",
        r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
        hints=("eyj",),
    ),
    _d(
        "bearer token",
        r"\b[Bb]earer\s+([A-Za-z0-9\-._~+/]{12,}=*)",
        1,
        _bearer_ok,
        hints=("bearer",),
    ),
    _d("basic credentials", r"\b[Bb]asic\s+([A-Za-z0-9+/]{12,}={0,2})", 1, hints=("basic",)),
    _d("password in URL", r"://[^:/\s@]+:([^@/\s]+)@", 1, hints=("://",)),
    _d(
        "password after 'password='",
        r"(?i)\b(?:password|passwd|pwd)\s*[=:]\s*[\"']?([^\s\"'&,;]{4,})",
        1,
        hints=("pass", "pwd"),
    ),
    _d(
        "high-entropy value after a secret name",
        r"(?i)\b[a-z0-9_.-]*(?:token|secret|api[_-]?key|access[_-]?key|private[_-]?key"
        r"|credentials?)[\"']?\s*[=:]\s*[\"']?([^\s\"'&,;]{12,})",
        1,
        _looks_random,
        hints=("token", "secret", "key", "credential"),
    ),
)

# Cheap pre-checks: one literal alternation over the lower-cased text rejects the many
# strings without any hint (re.IGNORECASE would be ~10x slower); for the rest, only the
# detectors whose own hints occur run their regex.
_HINT = re.compile("|".join(re.escape(h) for h in sorted({h for d in _DETECTORS for h in d.hints})))

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
)
_PHONE_HINT = re.compile(r"\d[\d\s().-]{5,}\d")


def scan_text(
    text: str,
    pii: Collection[PiiKind] = (),
    *,
    credentials: bool = True,
    phone_region: str = "US",
) -> tuple[str, list[Found]]:
    """Replace credentials (and the configured personal data) in ``text`` by markers."""
    found: list[Found] = []
    lower = text.lower()
    if credentials and len(text) >= 8 and _HINT.search(lower):
        for detector in _DETECTORS:
            if any(hint in lower for hint in detector.hints):
                text = _apply(detector, text, found)
    if "email" in pii and "@" in text:
        text = _apply(_Detector("e-mail address", _EMAIL), text, found)
    if "phone" in pii and _PHONE_HINT.search(text):
        text = _phones(text, phone_region, found)
    return text, found


def _apply(detector: _Detector, text: str, found: list[Found]) -> str:
    marker = f"[redacted: {detector.reason}]"

    def replace(match: re.Match[str]) -> str:
        secret = match.group(detector.group)
        if secret.startswith(MARKER_PREFIX) or (detector.accept and not detector.accept(secret)):
            return match.group(0)
        found.append(Found(detector.reason, secret))
        start, end = match.span(detector.group)
        whole_start = match.start(0)
        whole = match.group(0)
        return whole[: start - whole_start] + marker + whole[end - whole_start :]

    return detector.regex.sub(replace, text)


def _phones(text: str, region: str, found: list[Found]) -> str:
    import phonenumbers  # imported on first use: a large table, needed only with phone PII

    matches = list(phonenumbers.PhoneNumberMatcher(text, region))
    found.extend(Found("phone number", match.raw_string) for match in matches)
    for match in reversed(matches):  # from the end, so earlier offsets stay valid
        text = text[: match.start] + "[redacted: phone number]" + text[match.end :]
    return text
