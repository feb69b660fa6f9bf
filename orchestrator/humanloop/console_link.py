"""Sign-in links for the web console: the Slack identity is the identity.

It lives with the bot (``/steptrace console`` answers with :func:`console_link`); the
console (:mod:`orchestrator.console`) redeems the links.

A person gets a **sign-in link** from the bot (``/steptrace console``) or from an admin on
the server (``steptrace console-link --user U…``): a URL carrying a token signed with the
console's secret (itsdangerous), naming the Slack user, a random nonce and the time it
was made. The link works once (the console remembers the nonces it has honoured until
they expire) and for :data:`LINK_TTL_SECONDS`. Opening it starts a **session**: a cookie
signed with the same secret (Starlette's ``SessionMiddleware``) that holds the user id
and a per-session **CSRF token**, which every form carries and every POST must echo.

A forged link fails the signature check, an old one the age check, a used one the nonce
check; each is refused with a page that says which, and how to get a new link.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pydantic import SecretStr

SECRET_ENV = "STEPTRACE_CONSOLE_SECRET"
URL_ENV = "STEPTRACE_CONSOLE_URL"
LINK_TTL_SECONDS = 300
SESSION_MAX_AGE_SECONDS = 12 * 3600
SIGNIN_PATH = "/signin"
_LINK_SALT = "steptrace.console.signin"
_MIN_SECRET_CHARS = 32


class ConsoleConfigError(ValueError):
    """The console cannot start or make a link: a setting is missing; the message names it."""


class LinkRefused(ValueError):
    """A sign-in link that does not open a session; the message says why and what to do."""


def console_secret(env: Mapping[str, str]) -> SecretStr:
    """The key that signs links and session cookies; the console refuses to go on without
    one long enough to resist guessing."""
    secret = env.get(SECRET_ENV, "").strip()
    if len(secret) < _MIN_SECRET_CHARS:
        raise ConsoleConfigError(
            f"{SECRET_ENV} must be set to a random string of at least {_MIN_SECRET_CHARS} "
            "characters (e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`): "
            "it signs the sign-in links and the session cookies"
        )
    return SecretStr(secret)


def console_url(env: Mapping[str, str], default: str = "http://127.0.0.1:8765") -> str:
    """Where people reach the console (the links point there)."""
    return (env.get(URL_ENV, "").strip() or default).rstrip("/")


@dataclass(frozen=True)
class SignedIn:
    user: str
    nonce: str


class LinkSigner:
    """Makes and checks sign-in tokens; remembers the nonces already used.

    The memory of used nonces lives in the process: one console process honours a link
    once. The short lifetime bounds what a restart could re-open.
    """

    def __init__(self, secret: SecretStr, *, ttl_seconds: int = LINK_TTL_SECONDS) -> None:
        self._serializer = URLSafeTimedSerializer(secret.get_secret_value(), salt=_LINK_SALT)
        self._ttl = ttl_seconds
        self._used: dict[str, float] = {}
        self._lock = threading.Lock()

    def token(self, user: str) -> str:
        """A one-time token that signs ``user`` in."""
        if not user.strip():
            raise ValueError("a sign-in link needs a Slack user id (e.g. U0A2OJVXRPU)")
        return self._serializer.dumps({"u": user.strip(), "n": secrets.token_urlsafe(16)})

    def link(self, base_url: str, user: str) -> str:
        """The full sign-in URL for ``user`` on the console at ``base_url``."""
        return f"{base_url.rstrip('/')}{SIGNIN_PATH}?{urlencode({'token': self.token(user)})}"

    def redeem(self, token: str) -> SignedIn:
        """The user a token signs in, once; :class:`LinkRefused` says why not."""
        try:
            data: Any = self._serializer.loads(token, max_age=self._ttl)
        except SignatureExpired as exc:
            raise LinkRefused(
                f"this sign-in link has expired (links last {self._ttl // 60} minutes): "
                "ask the bot for a new one with `/steptrace console`"
            ) from exc
        except BadSignature as exc:
            raise LinkRefused(
                "this sign-in link is not one the console made (its signature does not "
                "match): ask the bot for a new one with `/steptrace console`"
            ) from exc
        if not isinstance(data, dict) or not data.get("u") or not data.get("n"):
            raise LinkRefused("this sign-in link carries no user: ask for a new one")
        nonce = str(data["n"])
        with self._lock:
            now = time.monotonic()
            self._used = {n: t for n, t in self._used.items() if now - t < self._ttl}
            if nonce in self._used:
                raise LinkRefused(
                    "this sign-in link has been used already (each link opens one session): "
                    "ask the bot for a new one with `/steptrace console`"
                )
            self._used[nonce] = now
        return SignedIn(user=str(data["u"]), nonce=nonce)


def console_link(env: Mapping[str, str], user: str) -> str:
    """A one-time sign-in link for Slack user ``user`` to the console named by the
    environment (``STEPTRACE_CONSOLE_SECRET``, ``STEPTRACE_CONSOLE_URL``): what the bot
    answers ``/steptrace console`` with, ephemerally, and ``steptrace console-link`` prints."""
    return LinkSigner(console_secret(env)).link(console_url(env), user)
